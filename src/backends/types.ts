import type { AnyActorRef } from 'xstate';
import type { BreakerState, CircuitBreaker } from '../reliability/breaker.js';

export type HealthStatus = 'pass' | 'warn' | 'fail';
export type BackendKind = 'websocket' | 'http' | 'mcp' | 'webmcp-page' | 'webmcp';

/** One backend's line in the health report. Times are ISO strings, or null when it never happened. */
export interface BackendHealth {
  kind: BackendKind;
  status: HealthStatus;
  /** The backend machine's state value (socket: IDLE, CONNECTING, …; http: UNKNOWN, UP, …). */
  state: string;
  breaker: BreakerState;
  consecutiveFailures: number;
  lastCheckAt: string | null;
  lastSuccessAt: string | null;
  /** Short message of the last failure (history: see `lastErrorAt`), or null before the first. */
  lastError: string | null;
  /** When `lastError` happened (ISO), or null before the first failure. */
  lastErrorAt: string | null;
  latencyMs: number | null;
  critical: boolean;
}

/** What the bridge needs of every backend. */
export interface Backend {
  readonly name: string;
  readonly kind: BackendKind;
  /** This backend's own breaker (never shared). */
  readonly breaker: CircuitBreaker;
  /** The backend's lifecycle actor (socket or http machine). */
  readonly actor: AnyActorRef;
  /** Starts connecting / probing. Idempotent. */
  start(): void;
  /** Stops timers and connections; rejects whatever is still queued or in flight. */
  stop(): Promise<void>;
  /** Health now, computed from the actor's snapshot and the breaker. */
  status(): BackendHealth;
  /** Actively checks the backend (HTTP: GET the probe path; socket: a ping when connected). */
  probe(): Promise<void>;
  /** Called synchronously whenever the backend's state, breaker state or health may have changed. */
  subscribe(listener: () => void): () => void;
}
