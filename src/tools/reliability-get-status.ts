import { z } from 'zod';
import type { SocketBackend } from '../backends/socket.js';
import { a2aLedgerOutput, breakersOutput, healthReportOutput, retryMetricsOutput } from './report-output.js';
import type { ToolDefinition } from './types.js';

export const reliabilityGetStatusInput = z.object({});

/** `reliability_get_status`'s answer. */
export const reliabilityGetStatusOutput = z.object({
  timestamp: z.string().describe('ISO time of the answer.'),
  health: healthReportOutput.describe('The health report.'),
  breakers: breakersOutput.describe('Breaker metrics per backend.'),
  retries: retryMetricsOutput.describe('Retry metrics.'),
  queues: z
    .record(z.string(), z.number().int().min(0))
    .describe("Messages waiting in each socket backend's send queue."),
  a2a: a2aLedgerOutput.describe(
    'A2A messages accepted while the router was unreachable: pending, delivered, failed, undelivered.',
  ),
});

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
    outputSchema: reliabilityGetStatusOutput,
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
