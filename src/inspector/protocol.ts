/**
 * Messages of the inspector's WebSocket (and lines of a `--record` file). The three `@xstate.*`
 * messages follow `@statelyai/inspect`'s format (so they can be forwarded to Stately's inspector
 * unchanged); `health`, `metrics`, `lab` and `dropped` are this project's additions.
 *
 * Every frame the server sends is a JSON array of messages (a batch). Browser-safe: types only.
 */

import type { BackendHealth } from '../backends/types.js';
import type { HealthReport } from '../bridge/types.js';
import type { BreakerTransition, CircuitBreakerMetrics } from '../reliability/breaker.js';
import type { RetryMetricsSnapshot } from '../reliability/retry-metrics.js';

export const INSPECTOR_PROTOCOL_VERSION = '1';

/** Version string carried in `_version`, as `@statelyai/inspect` does. */
export const STATELY_VERSION = '0.7.2';

interface StatelyBase {
  /** Unique per actor within one relay (XState's own `x:N` ids repeat across actor systems). */
  sessionId: string;
  rootId: string | undefined;
  /** Epoch milliseconds, as a string (Stately's format). */
  createdAt: string;
  id: string | null;
  _version: string;
}

export interface InspectedSnapshot {
  status?: string;
  value?: unknown;
  context?: unknown;
  output?: unknown;
  error?: unknown;
}

/** A new actor: its machine definition (`JSON.stringify(machine.toJSON())`) when it runs a machine. */
export interface ActorMessage extends StatelyBase {
  type: '@xstate.actor';
  /** Readable name: `bridge`, `evolution`, `evolution.breaker`, `retry:fetch`, … */
  name: string;
  parentId: string | undefined;
  /** The actor's system id (`backend:evolution`, `breaker:evolution`, …) when it has one. */
  systemId: string | undefined;
  /** What the actor is: the orchestrator, a backend, a breaker, a retry loop, or another actor. */
  role: 'bridge' | 'backend' | 'breaker' | 'retry' | 'actor';
  /** For backends and breakers: the backend's name. */
  backend?: string;
  definition: string | undefined;
  snapshot: InspectedSnapshot;
}

export interface EventMessage extends StatelyBase {
  type: '@xstate.event';
  sourceId: string | undefined;
  event: { type: string; [key: string]: unknown };
}

export interface SnapshotMessage extends StatelyBase {
  type: '@xstate.snapshot';
  event: { type: string; [key: string]: unknown };
  snapshot: InspectedSnapshot;
}

export type StatelyMessage = ActorMessage | EventMessage | SnapshotMessage;

/** The shapes below are the bridge's own, as JSON. */
export type BackendHealthLine = BackendHealth;
export type HealthReportData = HealthReport;

/** A health report: on every health change, and sampled (when latency or errors moved) in between. */
export interface HealthMessage {
  type: 'health';
  createdAt: string;
  /** True for a periodic sample rather than an `onHealthChange` report. */
  sample?: boolean;
  report: HealthReportData;
}

export type BreakerTransitionData = BreakerTransition;
export type BreakerMetricsData = CircuitBreakerMetrics;
export type RetryMetricsData = RetryMetricsSnapshot;

/** Breaker metrics (with their transition history) and retry metrics, sent when they change. */
export interface MetricsMessage {
  type: 'metrics';
  createdAt: string;
  breakers: Record<string, BreakerMetricsData>;
  retries: RetryMetricsData;
}

/** The lab's control API, for the page's fault buttons. Sent only to loopback clients, never recorded. */
export interface LabMessage {
  type: 'lab';
  url: string;
  token: string;
  backends: string[];
}

/** Inspection messages dropped under overload (oldest events first; snapshots are kept). */
export interface DroppedMessage {
  type: 'dropped';
  createdAt: string;
  count: number;
}

/** First message of every connection; `replay: true` marks the late-joiner replay that follows. */
export interface HelloMessage {
  type: 'hello';
  protocol: string;
  createdAt: string;
  replay: boolean;
}

export type InspectorMessage =
  | StatelyMessage
  | HealthMessage
  | MetricsMessage
  | LabMessage
  | DroppedMessage
  | HelloMessage;

/** One line of a `--record` file. */
export interface RecordLine {
  /** Epoch milliseconds when the message was recorded. */
  t: number;
  message: InspectorMessage;
}
