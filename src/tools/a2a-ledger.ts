import { errorMessage } from '../../machines/error-message.js';
import type { Clock } from '../clock.js';

/** An A2A message accepted while its socket was down. */
export interface A2AQueuedMessage {
  message_id: string;
  to_agent: string;
  message_type: string;
  queuedAt: string;
  /** Set once delivery failed. */
  failedAt?: string;
  error?: string;
}

export interface A2ALedgerSnapshot {
  /** Accepted while down and not written yet. */
  pending: number;
  /** Accepted while down and written after reconnecting. */
  delivered: number;
  /** Accepted while down and never written (the backend stopped, the message was refused…). */
  failed: number;
  /** The last 100 messages that were accepted but could not be delivered, oldest first. */
  undelivered: A2AQueuedMessage[];
  /** Messages still waiting, oldest first (at most 100 listed). */
  waiting: A2AQueuedMessage[];
}

/** Follows every A2A message answered `queued: true` until it is delivered or known undelivered. */
export interface A2ALedger {
  track(message: Omit<A2AQueuedMessage, 'queuedAt'>, delivery: Promise<unknown>): void;
  snapshot(): A2ALedgerSnapshot;
}

const LIMIT = 100;

export function createA2ALedger(clock: Clock): A2ALedger {
  const waiting = new Map<string, A2AQueuedMessage>();
  const undelivered: A2AQueuedMessage[] = [];
  let delivered = 0;
  let failed = 0;
  return {
    track(message, delivery) {
      const entry: A2AQueuedMessage = { ...message, queuedAt: new Date(clock.now()).toISOString() };
      waiting.set(entry.message_id, entry);
      delivery.then(
        () => {
          waiting.delete(entry.message_id);
          delivered++;
        },
        (error: unknown) => {
          waiting.delete(entry.message_id);
          failed++;
          entry.failedAt = new Date(clock.now()).toISOString();
          entry.error = errorMessage(error);
          undelivered.push(entry);
          if (undelivered.length > LIMIT) undelivered.shift();
        },
      );
    },
    snapshot() {
      return {
        pending: waiting.size,
        delivered,
        failed,
        undelivered: undelivered.map((entry) => ({ ...entry })),
        waiting: [...waiting.values()].slice(0, LIMIT).map((entry) => ({ ...entry })),
      };
    },
  };
}
