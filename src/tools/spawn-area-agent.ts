import { z } from 'zod';
import { AGENT_HEARTBEAT_INTERVAL_MS, AGENT_TYPES } from '../wire/daemons.js';
import { assertAvailable, socketBackend } from './availability.js';
import { ToolExecutionError } from './errors.js';
import { requestId } from './ids.js';
import { parseReply } from './reply.js';
import type { ToolDefinition } from './types.js';

/** Time the agent daemon has to answer by default: the bridge's `agents` backend `requestTimeoutMs`, which the tool uses. */
export const SPAWN_TIMEOUT_MS = 10_000;

const region = z.object({
  x: z.number(),
  y: z.number(),
  width: z.number().positive(),
  height: z.number().positive(),
});

export const spawnAreaAgentInput = z.object({
  agent_type: z.enum(AGENT_TYPES),
  region,
  config: z.record(z.string(), z.unknown()).optional(),
  auto_start: z.boolean().optional(),
});

/** The agent daemon's reply (`SpawnReply`), as far as the tool reads it. */
const spawnReply = z.looseObject({
  success: z.boolean().nullish(),
  error: z.string().nullish(),
  agentId: z.string().nullish(),
  status: z.string().nullish(),
  heartbeatInterval: z.number().min(0).nullish(),
});

/** `spawn_area_agent`'s answer. */
export const spawnAreaAgentOutput = z.object({
  agentId: z.string().nullable().describe("The new agent's id (null when the daemon gave none)."),
  status: z.string().describe('The status the daemon reported (default "spawned").'),
  region: region.describe('The region asked for.'),
  heartbeatInterval: z.number().min(0).describe('Milliseconds between heartbeats (default 5000).'),
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
    outputSchema: spawnAreaAgentOutput,
    backend: backendName,
    async handler(args, { backend, clock, random, signal }) {
      const socket = socketBackend(backend, backendName);
      assertAvailable(socket, clock.now());
      const reply = parseReply(
        spawnReply,
        await socket.request<unknown>(
          { requestId: requestId('agent', clock.now(), random), action: 'spawn', ...args },
          { ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }), signal },
        ),
        "the agent daemon's reply",
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
