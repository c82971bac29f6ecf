import { z } from 'zod';
import type { SocketBackend } from '../backends/socket.js';
import type { ToolDefinition } from './types.js';

export const reliabilityGetStatusInput = z.object({});

/**
 * `reliability_get_status`: `{ timestamp, health, breakers, retries, queues, a2a }` where `queues` is
 * each socket backend's queue length and `a2a` follows the messages answered `queued: true`
 * (`pending`, `delivered`, `failed`, `undelivered`: those that will never be delivered, with the reason).
 */
export function reliabilityGetStatusTool(): ToolDefinition<typeof reliabilityGetStatusInput> {
  return {
    name: 'reliability_get_status',
    title: 'Reliability status',
    annotations: { readOnlyHint: true, openWorldHint: false },
    description:
      'Circuit breakers, retry metrics, health, send queues and undelivered A2A messages of the bridge.',
    inputSchema: reliabilityGetStatusInput,
    handler(_args, { bridge, clock }) {
      const breakers: Record<string, unknown> = {};
      const queues: Record<string, number> = {};
      for (const name of bridge.backendNames()) {
        const backend = bridge.backend(name);
        if (!backend) continue;
        breakers[name] = backend.breaker.metrics();
        if (backend.kind === 'websocket') queues[name] = (backend as SocketBackend).queueLength;
      }
      return {
        timestamp: new Date(clock.now()).toISOString(),
        health: bridge.health(),
        breakers,
        retries: bridge.retryMetrics.snapshot(),
        queues,
        a2a: bridge.a2a.snapshot(),
      };
    },
  };
}
