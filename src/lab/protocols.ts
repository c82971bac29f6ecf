/**
 * What the lab's WebSocket backends answer (backends.md), as pure functions of the request: the
 * evolution daemon, the agent daemon and the A2A router. No I/O here.
 */
import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import {
  A2A_SCHEMA_URL,
  A2A_WIRE_MESSAGE_TYPES,
  type A2AEnvelope,
  type A2AMessageType,
} from '../wire/a2a.js';
import { AGENT_HEARTBEAT_INTERVAL_MS, AGENT_TYPES, FITNESS_METRICS } from '../wire/daemons.js';
import { formatIssues } from './faults.js';

export { A2A_SCHEMA_URL as A2A_SCHEMA, AGENT_HEARTBEAT_INTERVAL_MS, AGENT_TYPES, FITNESS_METRICS };
export const A2A_ROUTER_ID = 'lab-a2a-router';

type Reply = Record<string, unknown>;

function requestIdOf(frame: Record<string, unknown>): string | null {
  return typeof frame.requestId === 'string' && frame.requestId !== '' ? frame.requestId : null;
}

/** `{ requestId?, success: false, error }`; `requestId` is left out when the frame had none usable. */
export function failure(frame: Record<string, unknown> | null, error: string): Reply {
  const requestId = frame ? requestIdOf(frame) : null;
  return { ...(requestId ? { requestId } : {}), success: false, error };
}

/** Application-level ping for clients without protocol pings (browsers): `{ type: 'ping' }` or `{ action: 'ping' }`. */
export function pingReply(frame: Record<string, unknown>): Reply | null {
  if (frame.type === 'ping') return { type: 'pong', ...(frame.id !== undefined ? { id: frame.id } : {}) };
  if (frame.action === 'ping') {
    const requestId = requestIdOf(frame);
    return { ...(requestId ? { requestId } : {}), success: true, action: 'pong' };
  }
  return null;
}

function hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

// ---------------------------------------------------------------- evolution

const evolveSchema = z.object({
  requestId: z.string().min(1),
  action: z.literal('evolve'),
  seed_shader: z.string().min(1).max(1_000_000),
  generations: z.number().int().min(1).max(100).default(10),
  fitness_metric: z.enum(FITNESS_METRICS).default('performance'),
  mutation_rate: z.number().min(0.01).max(0.5).default(0.1),
  population_size: z.number().int().min(1).max(10_000).default(20),
});

export type EvolveRequest = z.infer<typeof evolveSchema>;

/** The result of an evolution run: a pure function of its inputs. */
export function evolve(request: EvolveRequest): {
  bestFitness: number;
  generationsCompleted: number;
  evolvedShader: string;
  cartridgeId: string;
} {
  const digest = hex(
    JSON.stringify([
      request.seed_shader,
      request.generations,
      request.fitness_metric,
      request.mutation_rate,
      request.population_size,
    ]),
  );
  const unit = Number.parseInt(digest.slice(0, 8), 16) / 0xffffffff;
  // More generations and a larger population give a better result, as a real search would.
  const effort = 1 - 1 / (1 + request.generations * Math.log2(1 + request.population_size) * 0.05);
  const bestFitness = Math.round((0.3 + 0.6 * effort + 0.1 * unit) * 10_000) / 10_000;
  const evolvedShader =
    `// evolved by mcp-lifeline lab: metric=${request.fitness_metric} generations=${request.generations}` +
    ` mutation_rate=${request.mutation_rate} population=${request.population_size} hash=${digest.slice(0, 12)}\n` +
    request.seed_shader;
  return {
    bestFitness,
    generationsCompleted: request.generations,
    evolvedShader,
    cartridgeId: `cart_${digest.slice(0, 16)}`,
  };
}

export function handleEvolutionFrame(frame: Record<string, unknown>): { reply: Reply; valid: boolean } {
  if (frame.action !== 'evolve') {
    return { reply: failure(frame, `unknown action: ${JSON.stringify(frame.action ?? null)}`), valid: false };
  }
  const parsed = evolveSchema.safeParse(frame);
  if (!parsed.success) return { reply: failure(frame, formatIssues(parsed.error)), valid: false };
  return { reply: { requestId: parsed.data.requestId, success: true, ...evolve(parsed.data) }, valid: true };
}

// ---------------------------------------------------------------- agents

const spawnSchema = z.object({
  requestId: z.string().min(1),
  action: z.literal('spawn'),
  agent_type: z.enum(AGENT_TYPES),
  region: z
    .object({
      x: z.number().finite(),
      y: z.number().finite(),
      width: z.number().finite().min(0),
      height: z.number().finite().min(0),
    })
    .loose(),
  config: z.record(z.string(), z.unknown()).optional(),
  auto_start: z.boolean().optional(),
});

export function handleAgentsFrame(
  frame: Record<string, unknown>,
  nextAgentNumber: () => number,
): { reply: Reply; valid: boolean } {
  if (frame.action !== 'spawn') {
    return { reply: failure(frame, `unknown action: ${JSON.stringify(frame.action ?? null)}`), valid: false };
  }
  const parsed = spawnSchema.safeParse(frame);
  if (!parsed.success) return { reply: failure(frame, formatIssues(parsed.error)), valid: false };
  const n = nextAgentNumber();
  return {
    reply: {
      requestId: parsed.data.requestId,
      success: true,
      agentId: `agent_${parsed.data.agent_type}_${n}`,
      status: 'spawned',
      heartbeatInterval: AGENT_HEARTBEAT_INTERVAL_MS,
    },
    valid: true,
  };
}

// ---------------------------------------------------------------- a2a

const envelopeSchema = z
  .object({
    $schema: z.string().optional(),
    message_id: z.string().min(1).max(200),
    timestamp: z.number().finite().nonnegative(),
    from_agent: z.string().min(1).max(200),
    to_agent: z.string().min(1).max(200).optional(),
    message_type: z.enum(A2A_WIRE_MESSAGE_TYPES),
    priority: z.number().int().min(1).max(10).optional(),
    content: z.record(z.string(), z.unknown()),
    metadata: z
      .object({ correlation_id: z.string().optional(), in_reply_to: z.string().optional() })
      .loose()
      .optional(),
    expires_at: z.number().finite().optional(),
  })
  .loose();

export function validateEnvelope(
  frame: Record<string, unknown>,
): { ok: true; envelope: A2AEnvelope } | { ok: false; error: string } {
  const parsed = envelopeSchema.safeParse(frame);
  if (!parsed.success) return { ok: false, error: formatIssues(parsed.error) };
  return { ok: true, envelope: parsed.data as A2AEnvelope };
}

export function a2aMessage(
  to: string,
  messageType: A2AMessageType,
  content: Record<string, unknown>,
  inReplyTo: string | null,
  priority = 5,
): A2AEnvelope {
  return {
    $schema: A2A_SCHEMA_URL,
    message_id: randomUUID(),
    timestamp: Date.now() / 1000,
    from_agent: A2A_ROUTER_ID,
    to_agent: to,
    message_type: messageType,
    priority,
    content,
    metadata: inReplyTo ? { correlation_id: inReplyTo, in_reply_to: inReplyTo } : {},
  };
}

/** The router's error report for a frame it rejected, correlated when the frame had a message_id. */
export function a2aErrorReport(
  frame: Record<string, unknown> | null,
  code: string,
  error: string,
): A2AEnvelope {
  const messageId = frame && typeof frame.message_id === 'string' ? frame.message_id : null;
  const to = frame && typeof frame.from_agent === 'string' ? frame.from_agent : 'unknown';
  return a2aMessage(to, 'error_report', { success: false, code, error }, messageId, 8);
}

/**
 * The router's reply to a valid message, or null for fire-and-forget types (heartbeat,
 * status_update, task_update, task_result, the responses, subscription).
 */
export function a2aReply(envelope: A2AEnvelope, registry: Map<string, unknown>): A2AEnvelope | null {
  const from = envelope.from_agent;
  const id = envelope.message_id;
  const priority = envelope.priority ?? 5;
  switch (envelope.message_type) {
    case 'coordination_request':
      return a2aMessage(
        from,
        'coordination_response',
        { success: true, accepted: true, request: envelope.content },
        id,
        priority,
      );
    case 'task_assignment':
      return a2aMessage(
        from,
        'task_result',
        { success: true, status: 'completed', task: envelope.content, result: { handledBy: A2A_ROUTER_ID } },
        id,
        priority,
      );
    case 'registry_query': {
      const query = envelope.content.query;
      if (query === 'register_agent') {
        const agentId = typeof envelope.content.agent_id === 'string' ? envelope.content.agent_id : from;
        registry.set(agentId, envelope.content.capabilities ?? []);
        return a2aMessage(
          from,
          'registry_response',
          { success: true, registered: true, agent_id: agentId },
          id,
        );
      }
      return a2aMessage(
        from,
        'registry_response',
        {
          success: true,
          agents: [...registry.entries()].map(([agent_id, capabilities]) => ({ agent_id, capabilities })),
        },
        id,
      );
    }
    default:
      return null;
  }
}
