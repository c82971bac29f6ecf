/*
 * OpenTelemetry metrics for a bridge, through `@opentelemetry/api` only: until the application installs
 * an SDK (a MeterProvider), `metrics.getMeter()` is a no-op and this costs next to nothing.
 *
 * Names follow the OTel conventions (dotted, unit in `unit`) in the style of resilience4j's
 * `resilience4j.circuitbreaker.*` and Polly's `resilience.polly.strategy.*` instruments. Attributes are
 * low-cardinality only: `backend`, `state`, `outcome`, `operation`, `attempt` (capped: "1", "2", "3+"),
 * `reason` (an error class) — never URLs, ids or error messages.
 *
 * Breaker counts are observed from `breaker.metrics()` (cumulative totals kept by each breaker, so they
 * include probes and connection attempts); retries and attempt durations come from the bridge's
 * reliability events, when it has them.
 */
import { type Attributes, type BatchObservableResult, type Meter, metrics } from '@opentelemetry/api';
import type { Bridge } from '../bridge/types.js';
import type { BreakerState } from '../reliability/breaker.js';
import type { ReliabilityEvents } from './events.js';

export const METER_NAME = 'mcp-lifeline';

/** Instrument names (see the table in the README). */
export const INSTRUMENTS = {
  breakerState: 'mcp_lifeline.circuit_breaker.state',
  breakerCalls: 'mcp_lifeline.circuit_breaker.calls',
  breakerNotPermitted: 'mcp_lifeline.circuit_breaker.not_permitted_calls',
  breakerTrips: 'mcp_lifeline.circuit_breaker.trips',
  retryAttempts: 'mcp_lifeline.retry.attempts',
  attemptDuration: 'mcp_lifeline.attempt.duration',
  backendHealth: 'mcp_lifeline.backend.health',
} as const;

export const BREAKER_STATES: readonly BreakerState[] = ['CLOSED', 'OPEN', 'HALF_OPEN'];
export const HEALTH_VALUE = { pass: 0, warn: 1, fail: 2 } as const;

/** Histogram buckets for attempt durations, in ms. */
export const ATTEMPT_DURATION_BUCKETS_MS = [
  5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000,
];

export interface InstrumentBridgeOptions {
  /** Default `metrics.getMeter('mcp-lifeline')` (a no-op until an SDK is installed). */
  meter?: Meter;
}

export interface BridgeInstrumentation {
  /** Removes the observable callbacks and the event subscription. Idempotent. */
  stop(): void;
}

/**
 * The `attempt` attribute, capped at "3+" to keep cardinality fixed: for retries the retry number
 * ("1" = first retry), for attempt durations the attempt index ("0" = the first attempt, as Polly's
 * `attempt.number`).
 */
export function attemptLabel(attempt: number): string {
  return attempt >= 3 ? '3+' : String(Math.max(0, Math.floor(attempt)));
}

/**
 * Registers the bridge's instruments on `meter`. Observable instruments read the bridge on each
 * collection; the retry counter and the attempt histogram record the bridge's reliability events.
 */
export function instrumentBridge(
  bridge: Pick<Bridge, 'health' | 'backend' | 'backendNames'> & { reliabilityEvents?: ReliabilityEvents },
  options: InstrumentBridgeOptions = {},
): BridgeInstrumentation {
  const meter = options.meter ?? metrics.getMeter(METER_NAME);

  const state = meter.createObservableGauge(INSTRUMENTS.breakerState, {
    description: 'Circuit breaker state: 1 for the current state of each backend breaker, 0 for the others',
    unit: '{state}',
  });
  const calls = meter.createObservableCounter(INSTRUMENTS.breakerCalls, {
    description: 'Calls through a backend circuit breaker, by outcome (success, failure, rejected)',
    unit: '{call}',
  });
  const notPermitted = meter.createObservableCounter(INSTRUMENTS.breakerNotPermitted, {
    description: 'Calls refused by an open (or full half-open) circuit breaker without being run',
    unit: '{call}',
  });
  const trips = meter.createObservableCounter(INSTRUMENTS.breakerTrips, {
    description: 'CLOSED to OPEN transitions of a backend circuit breaker',
    unit: '{transition}',
  });
  const health = meter.createObservableGauge(INSTRUMENTS.backendHealth, {
    description: 'Backend health: 0 = pass, 1 = warn, 2 = fail',
    unit: '1',
  });
  const retries = meter.createCounter(INSTRUMENTS.retryAttempts, {
    description: 'Retries made, by retry number (attempt "1", "2", "3+")',
    unit: '{attempt}',
  });
  const duration = meter.createHistogram(INSTRUMENTS.attemptDuration, {
    description: 'Duration of each attempt of a retried tool call, by outcome',
    unit: 'ms',
    advice: { explicitBucketBoundaries: ATTEMPT_DURATION_BUCKETS_MS },
  });

  const observables = [state, calls, notPermitted, trips, health];
  const collect = (result: BatchObservableResult) => {
    for (const name of bridge.backendNames()) {
      const breaker = bridge.backend(name)?.breaker;
      if (!breaker) continue;
      const m = breaker.metrics();
      for (const s of BREAKER_STATES)
        result.observe(state, m.state === s ? 1 : 0, { backend: name, state: s });
      result.observe(calls, m.totalSuccesses, { backend: name, outcome: 'success' });
      result.observe(calls, m.totalFailures, { backend: name, outcome: 'failure' });
      result.observe(calls, m.rejectedCalls, { backend: name, outcome: 'rejected' });
      result.observe(notPermitted, m.rejectedCalls, { backend: name });
      result.observe(trips, m.tripsCount, { backend: name });
    }
    for (const [name, line] of Object.entries(bridge.health().backends)) {
      result.observe(health, HEALTH_VALUE[line.status], { backend: name });
    }
  };
  meter.addBatchObservableCallback(collect, observables);

  const unsubscribe =
    bridge.reliabilityEvents?.subscribe((event) => {
      if (event.type === 'retry') {
        const attributes: Attributes = { operation: event.operation, attempt: attemptLabel(event.attempt) };
        if (event.backend !== undefined) attributes.backend = event.backend;
        retries.add(1, attributes);
      } else if (event.type === 'attempt') {
        const attributes: Attributes = {
          operation: event.operation,
          attempt: attemptLabel(event.attempt),
          outcome: event.outcome,
        };
        if (event.backend !== undefined) attributes.backend = event.backend;
        duration.record(event.durationMs, attributes);
      }
    }) ?? (() => {});

  let stopped = false;
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      meter.removeBatchObservableCallback(collect, observables);
      unsubscribe();
    },
  };
}
