import { z } from 'zod';
import { AGENT_HEARTBEAT_INTERVAL_MS, AGENT_TYPES, type SpawnReply } from '../wire/daemons.js';
import { assertAvailable, socketBackend } from './availability.js';
import { ToolExecutionError } from './errors.js';
import { requestId } from './ids.js';
import type { ToolDefinition } from './types.js';

/** Time the agent daemon has to answer by default: the bridge's `agents` backend `requestTimeoutMs`, which the tool uses. */
export const SPAWN_TIMEOUT_MS = 10_000;

export const spawnAreaAgentInput = z.object({
  agent_type: z.enum(AGENT_TYPES),
  region: z.object({
    x: z.number(),
    y: z.number(),
    width: z.number().positive(),
    height: z.number().positive(),
  }),
  config: z.record(z.string(), z.unknown()).optional(),
  auto_start: z.boolean().optional(),
});

/**
 * `spawn_area_agent`: `{ requestId: "agent_<ms>_<random>", action: "spawn", … }` over the agents
 * socket, reply within 10 s. Returns `{ success, agentId, status, region, heartbeatInterval }`.
 * Not retried (a spawn is not idempotent).
 */
export function spawnAreaAgentTool(
  options: { backend?: string; timeoutMs?: number } = {},
): ToolDefinition<typeof spawnAreaAgentInput> {
  const backendName = options.backend ?? 'agents';
  return {
    name: 'spawn_area_agent',
    title: 'Spawn an area agent',
    // Each call spawns one more agent in the daemon; it removes nothing.
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
    description: 'Asks the agent daemon to spawn an agent watching a screen region.',
    inputSchema: spawnAreaAgentInput,
    backend: backendName,
    async handler(args, { backend, clock, random, signal }) {
      const socket = socketBackend(backend, backendName);
      assertAvailable(socket, clock.now());
      const reply = await socket.request<SpawnReply>(
        { requestId: requestId('agent', clock.now(), random), action: 'spawn', ...args },
        { ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }), signal },
      );
      if (reply.success === false) throw new ToolExecutionError(reply.error ?? 'spawn failed');
      return {
        agentId: reply.agentId ?? null,
        status: reply.status ?? 'spawned',
        region: args.region,
        heartbeatInterval: reply.heartbeatInterval ?? AGENT_HEARTBEAT_INTERVAL_MS,
      };
    },
  };
}
