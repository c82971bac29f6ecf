/*
 * The bridge's reliability events: one per retry, per finished attempt and per breaker transition.
 * The bridge emits them (see `createBridge`); the structured logger and the OpenTelemetry instruments
 * subscribe. Fields are low-cardinality by construction: backend and operation names, breaker states,
 * attempt numbers, and a `reason` that is an error's class name (never its message, a URL or an id).
 */
import type { BreakerState, CircuitBreaker } from '../reliability/breaker.js';
import type { RetryInfo } from '../reliability/retry.js';

/** `tool`: the bridge's retry around a tool's backend call; `backend`: an HTTP backend's own retry. */
export type RetrySource = 'tool' | 'backend';

export interface RetryEvent {
  type: 'retry';
  backend: string | undefined;
  operation: string;
  /** The attempt about to be made after the delay (1 for the first retry). */
  attempt: number;
  delayMs: number;
  /** Class of the error that caused the retry: its `name`, with an HTTP status when it has one. */
  reason: string;
  /** The error itself, for loggers (which redact it); never used as a metric attribute. */
  error: unknown;
  source: RetrySource;
}

export interface AttemptEvent {
  type: 'attempt';
  backend: string | undefined;
  operation: string;
  /** 0 for the first attempt, 1 for the first retry… */
  attempt: number;
  durationMs: number;
  outcome: 'success' | 'failure';
  reason: string | undefined;
}

export interface BreakerTransitionEvent {
  type: 'breaker';
  backend: string;
  from: BreakerState;
  to: BreakerState;
  /** The breaker machine's reason ('failure threshold reached', 'trial calls succeeded', …). */
  reason: string;
  /** Clock time of the transition. */
  at: number;
}

export type ReliabilityEvent = RetryEvent | AttemptEvent | BreakerTransitionEvent;
export type ReliabilityListener = (event: ReliabilityEvent) => void;

/** What the bridge exposes as `bridge.reliabilityEvents`. */
export interface ReliabilityEvents {
  /** Returns the unsubscribe function. A listener that throws is ignored. */
  subscribe(listener: ReliabilityListener): () => void;
}

/** The emitting side, kept by the bridge. */
export interface ReliabilityEventHub extends ReliabilityEvents {
  /** True while someone listens: emitters skip timing work otherwise. */
  readonly active: boolean;
  emit(event: ReliabilityEvent): void;
  /** An `onRetry` for `retry()` that emits a {@link RetryEvent}, then calls `next` (if any). */
  onRetry(
    backend: string | undefined,
    source: RetrySource,
    next?: (info: RetryInfo) => void,
  ): (info: RetryInfo) => void;
  /** Wraps an attempt function so that each attempt emits an {@link AttemptEvent} when it settles. */
  timeAttempts<T>(
    backend: string | undefined,
    operation: string,
    fn: (attempt: number, signal: AbortSignal) => T | PromiseLike<T>,
  ): (attempt: number, signal: AbortSignal) => Promise<T>;
  /** Emits a {@link BreakerTransitionEvent} on every change of the breaker's state. Returns the unsubscribe. */
  watchBreaker(backend: string, breaker: CircuitBreaker): () => void;
}

/** An error's class, for a `reason` field: `name` plus `status` when numeric (HttpStatusError 503). */
export function reasonOf(error: unknown): string {
  if (error === null || typeof error !== 'object') return typeof error;
  const { name, status } = error as { name?: unknown; status?: unknown };
  const base = typeof name === 'string' && /^[A-Za-z0-9_.$-]{1,64}$/.test(name) ? name : 'Error';
  return typeof status === 'number' && Number.isInteger(status) ? `${base} ${status}` : base;
}

/** Creates the bridge's event hub; `now` stamps attempt durations and transitions. */
export function createReliabilityEventHub(now: () => number): ReliabilityEventHub {
  const listeners = new Set<ReliabilityListener>();
  const emit = (event: ReliabilityEvent) => {
    for (const listener of [...listeners]) {
      try {
        listener(event);
      } catch {
        // A telemetry listener must never break a call.
      }
    }
  };
  return {
    get active() {
      return listeners.size > 0;
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    emit,
    onRetry: (backend, source, next) => (info) => {
      if (listeners.size > 0) {
        emit({
          type: 'retry',
          backend,
          operation: info.operation,
          attempt: info.attempt,
          delayMs: info.delayMs,
          reason: reasonOf(info.error),
          error: info.error,
          source,
        });
      }
      next?.(info);
    },
    timeAttempts: (backend, operation, fn) => async (attempt, signal) => {
      const started = now();
      try {
        const value = await fn(attempt, signal);
        if (listeners.size > 0) {
          emit({
            type: 'attempt',
            backend,
            operation,
            attempt,
            durationMs: now() - started,
            outcome: 'success',
            reason: undefined,
          });
        }
        return value;
      } catch (error) {
        if (listeners.size > 0) {
          emit({
            type: 'attempt',
            backend,
            operation,
            attempt,
            durationMs: now() - started,
            outcome: 'failure',
            reason: reasonOf(error),
          });
        }
        throw error;
      }
    },
    watchBreaker(backend, breaker) {
      return breaker.onTransition(({ from, to, reason, at }) => {
        if (listeners.size > 0) emit({ type: 'breaker', backend, from, to, reason, at });
      });
    },
  };
}
