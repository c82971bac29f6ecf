/** Browser-safe: how the bridge and `send_a2a_message` use an {@link A2AOutbox}. */
import type { A2ALedger } from '../tools/a2a-ledger.js';
import type { A2AOutbox, OutboxMessage } from './types.js';

/** An A2A ledger that also carries the bridge's durable outbox. */
export type DurableA2ALedger = A2ALedger & { readonly outbox: A2AOutbox };

/** `ledger` with `outbox` attached, for `send_a2a_message` to find through `outboxOf`. */
export function withOutbox(ledger: A2ALedger, outbox: A2AOutbox): DurableA2ALedger {
  return Object.assign(ledger, { outbox });
}

/** The durable outbox attached to the bridge's A2A ledger, if any. */
export function outboxOf(ledger: A2ALedger): A2AOutbox | undefined {
  return (ledger as Partial<DurableA2ALedger>).outbox;
}

/**
 * Records `delivered` in the outbox once the receiver confirmed the message: `delivery.confirmed` when
 * `delivery` is a socket backend's `send()` result (written is not delivered: a crash before the
 * receiver read it must resend it), else `delivery` itself. A failure leaves it pending.
 */
export function followDelivery(
  outbox: A2AOutbox,
  id: string,
  delivery: Promise<unknown> & { readonly confirmed?: Promise<unknown> },
  onError?: (error: unknown) => void,
): void {
  (delivery.confirmed ?? delivery).then(
    () => {
      try {
        outbox.delivered(id);
      } catch (error) {
        onError?.(error);
      }
    },
    () => {
      // Not confirmed (the backend stopped, the queue was full): still pending, resent on the next start.
    },
  );
}

/**
 * Hands every message the outbox still holds to `send` (the a2a socket backend's `send`), oldest
 * first, and follows each to delivery. Call before anything else is sent on that socket, so that the
 * replayed messages keep their place ahead of new ones. `onProblem` hears what the outbox found wrong
 * when it was opened (quarantined records): the bridge shows it as the a2a backend's `lastError`.
 */
export function replayOutbox(
  outbox: A2AOutbox,
  send: (envelope: Record<string, unknown>) => Promise<void> & { readonly confirmed?: Promise<unknown> },
  ledger?: A2ALedger,
  onError?: (error: unknown) => void,
  onProblem?: (message: string) => void,
): OutboxMessage[] {
  for (const problem of outbox.problems ?? []) onProblem?.(problem);
  const pending = outbox.pending();
  for (const message of pending) {
    const delivery = send(message.envelope);
    followDelivery(outbox, message.id, delivery, onError);
    ledger?.track(
      {
        message_id: message.id,
        to_agent: String(message.envelope.to_agent ?? ''),
        message_type: String(message.envelope.message_type ?? ''),
      },
      delivery,
    );
  }
  return pending;
}
