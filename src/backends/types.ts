import type { AnyActorRef } from 'xstate';
import type { BackendHealth, HealthStatus } from '../../machines/bridge.machine.js';
import type { CircuitBreaker } from '../reliability/breaker.js';

export type { BackendHealth, HealthStatus } from '../../machines/bridge.machine.js';

/** The built-in kinds, `webmcp` for the surface line, or a plug-in kind's name. */
export type BackendKind = 'websocket' | 'http' | 'mcp' | 'webmcp-page' | 'webmcp' | (string & {});

/** The health report: every backend's line and their aggregate. */
export interface HealthReport {
  status: HealthStatus;
  /** ISO time of the report. */
  checkedAt: string;
  backends: Record<string, BackendHealth>;
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
