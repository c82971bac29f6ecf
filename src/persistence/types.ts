/*
 * Browser-safe types of the bridge's persistence (the file-backed implementations, in
 * `./file-breaker-store.ts` and `./durable-outbox.ts`, are Node-only).
 */
import type { BreakerCheckpoint } from '../reliability/breaker.js';

/** A breaker's state as saved: absolute clock times, so a restart resumes the original deadline. */
export interface PersistedBreaker extends BreakerCheckpoint {
  name: string;
  /** Clock time of the save. */
  savedAt: number;
}

/** Where breaker states are kept between runs. */
export interface BreakerStore {
  /** The saved state of the breaker called `name`, if any. */
  load(name: string): PersistedBreaker | undefined;
  /** Saves these states (others already saved are kept). */
  save(breakers: readonly PersistedBreaker[]): void;
}

/** An A2A message the bridge accepted (answered `queued: true`) and must deliver. */
export interface OutboxMessage {
  id: string;
  envelope: Record<string, unknown>;
}

/**
 * A durable record of A2A messages accepted while the router was unreachable: `accept` is on disk
 * before it returns; `delivered` is recorded once the receiver confirmed it read the message.
 */
export interface A2AOutbox {
  /** Records the message as accepted, synced to disk before returning. Throws when it cannot. */
  accept(message: OutboxMessage): void;
  /** Records the message as delivered (confirmed read by the router, not merely written). */
  delivered(id: string): void;
  /** Accepted and not delivered, oldest first. */
  pending(): OutboxMessage[];
  /** Closes the underlying file; later records are ignored. */
  close(): void;
  /** Problems found when it was opened (damaged records quarantined, a failed compaction), to report. */
  readonly problems?: readonly string[];
}

/** What `createBridge` persists, when given. */
export interface BridgePersistence {
  /** Breaker states of the backends: restored on creation, saved on every change. */
  breakers?: BreakerStore;
  /** A2A messages accepted while down: replayed on creation, in order. */
  outbox?: A2AOutbox;
  /** Called when saving fails (the bridge keeps running). Default: ignored. */
  onError?: (error: unknown, what: string) => void;
}
