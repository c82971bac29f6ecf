import { z } from 'zod';
import { errorMessage } from '../../machines/error-message.js';
import { followDelivery, outboxOf } from '../persistence/a2a.js';
import { A2A_MESSAGE_TYPES, A2A_SCHEMA_URL } from '../wire/a2a.js';
import { socketBackend } from './availability.js';
import { uuid } from './ids.js';
import type { ToolDefinition } from './types.js';

export { A2A_MESSAGE_TYPES, A2A_SCHEMA_URL };

export const sendA2aMessageInput = z.object({
  to_agent: z.string().min(1).describe('Agent id, "broadcast" or "topic:<name>".'),
  message_type: z.enum(A2A_MESSAGE_TYPES),
  content: z.record(z.string(), z.unknown()),
  priority: z.number().int().min(1).max(10).default(5),
  expires_in: z.number().positive().optional().describe('Seconds until the message expires.'),
  metadata: z
    .looseObject({
      correlation_id: z.string().optional(),
      in_reply_to: z.string().optional(),
    })
    .optional(),
});

/** `send_a2a_message`'s answer. */
export const sendA2aMessageOutput = z.object({
  message_id: z.string().describe('Id of the envelope sent (receivers deduplicate by it).'),
  queued: z
    .boolean()
    .describe('false: written to the router; true: kept in the send queue until the router is back.'),
  queue_length: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe('When queued: messages in the queue, this one included.'),
  durable: z
    .boolean()
    .optional()
    .describe('When queued with a data directory: whether the message is on disk (kept across a restart).'),
  durable_error: z
    .string()
    .optional()
    .describe('When `durable` is false: why it could not be written to disk.'),
});

/**
 * `send_a2a_message`: an A2A envelope over the a2a socket. Connected: resolves once written
 * (`{ success, message_id, queued: false }`). Disconnected: the socket backend's bounded queue keeps
 * it and writes it, in order, after reconnecting: the answer is `{ success: true, queued: true,
 * queue_length, message_id }`, and the bridge's A2A ledger follows it until it is delivered or
 * known undelivered (`reliability_get_status` → `a2a`). A full queue answers `QUEUE_FULL`. With a
 * data directory, a queued message is first synced to the durable outbox, and resent after a restart
 * until written. Delivery is at least once: a message written but not yet confirmed read by the router
 * is written again after an abnormal disconnect (`redeliverUnconfirmed`), with the same `message_id`,
 * by which receivers deduplicate.
 */
export function sendA2aMessageTool(
  options: { backend?: string; agentId?: string } = {},
): ToolDefinition<typeof sendA2aMessageInput> {
  const backendName = options.backend ?? 'a2a';
  const fromAgent = options.agentId ?? 'mcp-lifeline';
  return {
    name: 'send_a2a_message',
    title: 'Send an A2A message',
    // Each call sends a new message (a new message_id) to another agent; it replaces nothing.
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
    description:
      'Sends an A2A message to another agent (or "broadcast" / "topic:<name>"); queued while the router is unreachable.',
    inputSchema: sendA2aMessageInput,
    outputSchema: sendA2aMessageOutput,
    backend: backendName,
    operation: 'sendA2AMessage',
    async handler(args, { backend, bridge, clock, random }) {
      const socket = socketBackend(backend, backendName);
      const now = clock.now();
      const messageId = uuid(random);
      const envelope = {
        $schema: A2A_SCHEMA_URL,
        message_id: messageId,
        timestamp: now / 1000,
        from_agent: fromAgent,
        to_agent: args.to_agent,
        message_type: args.message_type,
        priority: args.priority,
        content: args.content,
        metadata: args.metadata ?? {},
        ...(args.expires_in === undefined ? {} : { expires_at: now / 1000 + args.expires_in }),
      };
      const before = socket.queueLength;
      const delivery = socket.send(envelope);
      if (socket.queueLength > before) {
        // With a data directory, the message is on disk before the caller hears `queued: true`.
        const outbox = outboxOf(bridge.a2a);
        let durable: Record<string, unknown> = {};
        if (outbox) {
          try {
            outbox.accept({ id: messageId, envelope });
            followDelivery(outbox, messageId, delivery);
            durable = { durable: true };
          } catch (error) {
            // Still queued in memory: say it would not survive a restart.
            durable = {
              durable: false,
              durable_error: errorMessage(error),
            };
          }
        }
        bridge.a2a.track(
          { message_id: messageId, to_agent: args.to_agent, message_type: args.message_type },
          delivery,
        );
        return { message_id: messageId, queued: true, queue_length: socket.queueLength, ...durable };
      }
      await delivery;
      return { message_id: messageId, queued: false };
    },
  };
}
