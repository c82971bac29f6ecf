import { assign, fromPromise, raise, setup } from 'xstate';
import { errorMessage } from './error-message.js';

/** Availability of an HTTP backend; `STOPPED` after `stop()`. These strings are the region's values. */
export type HttpAvailability = 'UNKNOWN' | 'UP' | 'DEGRADED' | 'DOWN' | 'STOPPED';

export interface HttpMachineInput {
  /** Consecutive failed calls or probes that make the backend DOWN (fewer make it DEGRADED). */
  downAfterFailures: number;
}

export interface HttpContext extends HttpMachineInput {
  /** Consecutive failed calls and probes, capped at `downAfterFailures` (the context stays finite). */
  consecutiveFailures: number;
  /** Latency of the last successful call or probe, in ms; null before the first. */
  latencyMs: number | null;
  /** Short message of the last failure; null before the first. */
  lastError: string | null;
}

/** What the `probe` actor resolves with. */
export interface HttpProbeOutput {
  latencyMs: number;
}

export type HttpEvent =
  /** Starts the backend: one probe at once. Periodic probes are the owner's (`PROBE_NOW`). */
  | { type: 'START' }
  /** Stops probing and freezes availability as `STOPPED`; nothing moves the machine afterwards. */
  | { type: 'STOP' }
  /** Probe now (ignored while a probe runs). Starts probing if idle. */
  | { type: 'PROBE_NOW' }
  /** One real call (one attempt) got an answer from the backend: 2xx/3xx, or a 4xx that is the caller's fault. */
  | { type: 'CALL_SUCCEEDED'; latencyMs: number }
  /** One real call (one attempt) failed: network error, timeout, 5xx or 429. */
  | { type: 'CALL_FAILED'; error: string }
  /** The backend's breaker entered OPEN. */
  | { type: 'BREAKER_OPENED' }
  /** Raised by the machine itself when its probe actor resolves. */
  | { type: 'PROBE_SUCCEEDED'; latencyMs: number }
  /** Raised by the machine itself when its probe actor rejects. */
  | { type: 'PROBE_FAILED'; error: string };

/** A failed call before DOWN: the down threshold reached → DOWN, else DEGRADED. */
const failureWhileNotDown = [
  { guard: 'reachesDownThreshold', target: 'DOWN', actions: 'recordFailure' },
  { target: 'DEGRADED', actions: 'recordFailure' },
] as const;

/** The same while DEGRADED: it stays DEGRADED below the threshold. */
const failureWhileDegraded = [
  { guard: 'reachesDownThreshold', target: 'DOWN', actions: 'recordFailure' },
  { actions: 'recordFailure' },
] as const;

/*
 * Rules of availability (the `availability` region):
 * - UNKNOWN until the first outcome.
 * - A success (call or probe) → UP from anywhere, failure count back to 0, its latency recorded.
 * - A failed probe while UNKNOWN → DOWN: a backend never seen answering whose health check fails is
 *   down, not degraded (DEGRADED means "answered before, failing now").
 * - Otherwise a failure (call or probe) adds one to the failure count: reaching `downAfterFailures` →
 *   DOWN, else → DEGRADED (so one failure from UP is DEGRADED, and a failure while DOWN stays DOWN).
 * - The breaker entering OPEN → DOWN at once, whatever the count.
 * - STOP → STOPPED, which ignores everything.
 *
 * The `prober` region runs one probe (the `probe` actor, provided by the runtime) on START or
 * PROBE_NOW and has no timer of its own: periodic probes belong to whoever owns the schedule (the
 * bridge's health check), and the breaker's HALF_OPEN trial asks for one through PROBE_NOW. Probe
 * outcomes are raised as PROBE_SUCCEEDED / PROBE_FAILED so the availability region treats them like
 * calls.
 */
export const httpMachine = setup({
  types: {
    input: {} as HttpMachineInput,
    context: {} as HttpContext,
    events: {} as HttpEvent,
  },
  actors: {
    probe: fromPromise<HttpProbeOutput>(async () => {
      throw new Error('httpMachine: provide the "probe" actor');
    }),
  },
  guards: {
    reachesDownThreshold: ({ context }) => context.consecutiveFailures + 1 >= context.downAfterFailures,
  },
  actions: {
    recordSuccess: assign({
      consecutiveFailures: 0,
      latencyMs: ({ context, event }) => ('latencyMs' in event ? event.latencyMs : context.latencyMs),
    }),
    recordFailure: assign({
      consecutiveFailures: ({ context }) =>
        Math.min(context.downAfterFailures, context.consecutiveFailures + 1),
      lastError: ({ context, event }) => ('error' in event ? event.error : context.lastError),
    }),
    reportProbeSuccess: raise(({ event }) => ({
      type: 'PROBE_SUCCEEDED' as const,
      latencyMs: (event as unknown as { output: HttpProbeOutput }).output.latencyMs,
    })),
    reportProbeFailure: raise(({ event }) => ({
      type: 'PROBE_FAILED' as const,
      error: errorMessage((event as unknown as { error: unknown }).error),
    })),
  },
}).createMachine({
  id: 'http',
  type: 'parallel',
  context: ({ input }) => ({
    downAfterFailures: input.downAfterFailures,
    consecutiveFailures: 0,
    latencyMs: null,
    lastError: null,
  }),
  on: {
    STOP: { target: ['.availability.STOPPED', '.prober.stopped'] },
  },
  states: {
    availability: {
      initial: 'UNKNOWN',
      states: {
        UNKNOWN: {
          on: {
            CALL_SUCCEEDED: { target: 'UP', actions: 'recordSuccess' },
            PROBE_SUCCEEDED: { target: 'UP', actions: 'recordSuccess' },
            CALL_FAILED: failureWhileNotDown,
            PROBE_FAILED: { target: 'DOWN', actions: 'recordFailure' },
            BREAKER_OPENED: { target: 'DOWN' },
          },
        },
        UP: {
          on: {
            CALL_SUCCEEDED: { actions: 'recordSuccess' },
            PROBE_SUCCEEDED: { actions: 'recordSuccess' },
            CALL_FAILED: failureWhileNotDown,
            PROBE_FAILED: failureWhileNotDown,
            BREAKER_OPENED: { target: 'DOWN' },
          },
        },
        DEGRADED: {
          on: {
            CALL_SUCCEEDED: { target: 'UP', actions: 'recordSuccess' },
            PROBE_SUCCEEDED: { target: 'UP', actions: 'recordSuccess' },
            CALL_FAILED: failureWhileDegraded,
            PROBE_FAILED: failureWhileDegraded,
            BREAKER_OPENED: { target: 'DOWN' },
          },
        },
        DOWN: {
          on: {
            CALL_SUCCEEDED: { target: 'UP', actions: 'recordSuccess' },
            PROBE_SUCCEEDED: { target: 'UP', actions: 'recordSuccess' },
            CALL_FAILED: { actions: 'recordFailure' },
            PROBE_FAILED: { actions: 'recordFailure' },
          },
        },
        STOPPED: {},
      },
    },
    prober: {
      initial: 'idle',
      states: {
        idle: {
          on: {
            START: { target: 'probing' },
            PROBE_NOW: { target: 'probing' },
          },
        },
        probing: {
          invoke: {
            id: 'probe',
            src: 'probe',
            onDone: { target: 'ready', actions: 'reportProbeSuccess' },
            onError: { target: 'ready', actions: 'reportProbeFailure' },
          },
        },
        ready: {
          on: {
            PROBE_NOW: { target: 'probing' },
          },
        },
        stopped: {},
      },
    },
  },
});

export type HttpMachine = typeof httpMachine;
