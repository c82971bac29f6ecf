/** The public types of `createCircuitBreaker` (see `breaker.ts`). */
import type { Actor, InspectionEvent, Observer, SnapshotFrom } from 'xstate';
import type { BreakerMachine, BreakerState } from '../../machines/breaker.machine.js';
import type { Clock } from '../clock.js';
import type { BreakerRuleOptions } from './breaker-rule-options.js';
import type { BreakerStoppedError, BrokenCircuitError } from './errors.js';

export type { BreakerState };

export interface CircuitBreakerOptions {
  /** Name used in errors, metrics and health reports. Default `'default'`. */
  name?: string;
  /** Consecutive failures that trip CLOSED → OPEN (the consecutive rule). Default 5. */
  failureThreshold?: number;
  /**
   * Which strategy trips CLOSED → OPEN: `{ kind: 'consecutive' }` (default, `failureThreshold` in a
   * row) or `{ kind: 'failureRate', failureRateThreshold, minimumCalls, window }` (the failure rate
   * over a sliding window of calls or of time). See {@link BreakerRuleOptions}.
   */
  rule?: BreakerRuleOptions;
  /** Milliseconds from entering OPEN to moving to HALF_OPEN by itself. Default 30 000. */
  resetTimeoutMs?: number;
  /** Trial calls admitted at once while HALF_OPEN. Default 3. */
  halfOpenMaxCalls?: number;
  /** Successful trial calls that close the breaker. Default 2. */
  successThreshold?: number;
  /** Whether an error counts as a failure. Default: every error does. Errors that do not count as successes. */
  isFailure?: (error: unknown) => boolean;
  /**
   * Spreads the OPEN → HALF_OPEN delay: each OPEN period lasts `resetTimeoutMs · (1 − resetJitter · random())`,
   * so the probes of many breakers that opened together do not arrive together. In [0, 1). Default 0
   * (exactly `resetTimeoutMs`).
   */
  resetJitter?: number;
  /** Source of `resetJitter`, in [0, 1). Default `Math.random`. */
  random?: () => number;
  /** Time source for the reset timer and every timestamp. Default {@link systemClock}. */
  clock?: Clock;
  /** Receives XState inspection events of the breaker's actor (for the inspector). */
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
  /**
   * Start from a saved state (see {@link CircuitBreaker.checkpoint}) instead of CLOSED. OPEN resumes
   * with its absolute deadline on `clock`, bounded by `resetTimeoutMs` from now: past it, the breaker
   * is HALF_OPEN at once; before it, it moves at the deadline. HALF_OPEN resumes with no trial in
   * flight; CLOSED keeps its failure count.
   */
  restore?: BreakerCheckpoint;
  /** Upper bound of {@link CircuitBreaker.holdOpen}'s duration. Default 600 000 (10 minutes). */
  maxHoldOpenMs?: number;
}

/** What a breaker needs to resume where it was: times are absolute, on the breaker's clock. */
export interface BreakerCheckpoint {
  state: BreakerState;
  consecutiveFailures: number;
  /** Clock time of the last entry into OPEN, or null if it never opened. */
  openedAt: number | null;
  /** OPEN: clock time at which it moves to HALF_OPEN; null otherwise. */
  reopensAt: number | null;
}

export interface ExecuteOptions {
  /**
   * Passed to `fn`. The breaker itself does not abort calls; a call that settles after this signal
   * aborted is *cancelled*: neither a success nor a failure (it only frees its HALF_OPEN trial slot).
   */
  signal?: AbortSignal;
}

export interface BreakerTransition {
  from: BreakerState;
  to: BreakerState;
  /** Clock time of the transition, in ms. */
  at: number;
  reason: string;
}

export interface CircuitBreakerMetrics {
  name: string;
  state: BreakerState;
  consecutiveFailures: number;
  totalSuccesses: number;
  totalFailures: number;
  /** Calls refused without being run. */
  rejectedCalls: number;
  /** Admitted calls that settled after their caller aborted: neither successes nor failures. */
  cancelledCalls: number;
  /** CLOSED → OPEN transitions. */
  tripsCount: number;
  /** Every entry into OPEN (trips and failed trials). */
  openCount: number;
  /** Length of the last finished OPEN period, or null when none has finished. */
  lastOpenDurationMs: number | null;
  /** Cumulative time in each state, the current period included. */
  timeInStateMs: Record<BreakerState, number>;
  /** The last 100 transitions, oldest first. */
  transitions: BreakerTransition[];
}

export interface CircuitBreaker {
  readonly name: string;
  /** The machine's current state value. */
  readonly state: BreakerState;
  /**
   * Runs `fn` if the breaker admits it, and records its outcome. Rejects with
   * {@link BrokenCircuitError}, without calling `fn`, when OPEN or when HALF_OPEN has no free trial slot.
   */
  execute<T>(fn: (signal: AbortSignal) => T | PromiseLike<T>, options?: ExecuteOptions): Promise<T>;
  /** Back to CLOSED with no failures counted, from any state. */
  reset(): void;
  metrics(): CircuitBreakerMetrics;
  /**
   * The running XState actor of {@link breakerMachine}. Made on first read (unless `inspect` made it at
   * once), starting from the current snapshot; from then on it holds the breaker's state and timer.
   * Observers that need no actor use {@link CircuitBreaker.snapshot} and {@link CircuitBreaker.onTransition}.
   */
  readonly actor: Actor<BreakerMachine>;
  /** The machine's current snapshot (what `actor.getSnapshot()` returns), without making the actor. */
  readonly snapshot: SnapshotFrom<BreakerMachine>;
  /** Stops the machine (its actor, if made) and clears its timer; later calls are refused with `BreakerStoppedError`. */
  stop(): void;
  /** The state to save so that `createCircuitBreaker({ restore })` resumes it (absolute deadlines). */
  checkpoint(): BreakerCheckpoint;
  /** Whether `execute` would run a call now (CLOSED, or HALF_OPEN with a free trial slot). */
  canAdmit(): boolean;
  /** Whole milliseconds until OPEN ends (0 when not OPEN). */
  retryAfterMs(): number;
  /**
   * The refusal `execute` would reject with now, counted in `rejectedCalls`; undefined when a call
   * would be admitted. For callers that must refuse before doing any work of their own.
   */
  refusal(): BrokenCircuitError | BreakerStoppedError | undefined;
  /**
   * OPEN for `durationMs` (capped by `maxHoldOpenMs`) from now, unless an OPEN period already ends
   * later: the backend asked callers to wait (an HTTP `Retry-After`).
   */
  holdOpen(durationMs: number): void;
  /** Calls `listener` on every change of state. Returns the function that stops it. */
  onTransition(listener: (transition: BreakerTransition) => void): () => void;
}
