/*
 * How the hot path and the machine share the work.
 *
 * `breakerMachine` is the only source of truth for the breaker's state, its failure count and
 * HALF_OPEN admission. This wrapper keeps `current`, the machine's latest snapshot, advanced by the
 * machine's pure transition (or, once `actor` was read, by that actor: see breaker-runner.ts), so
 * reading the state costs a property read.
 *
 * - Admission: `admitting` caches the machine's answer, refreshed with every snapshot: CLOSED admits,
 *   OPEN refuses, HALF_OPEN admits while `can(TRIAL_START)`. `canAdmit()`, `execute` and `refusal()`
 *   all read it: one admission path, and every refusal is counted in `rejectedCalls`.
 * - Outcomes: every outcome that can change the machine is sent as an event (FAILURE, a SUCCESS that
 *   clears a non-zero failure count, TRIAL_*). Whether a SUCCESS matters is the machine's
 *   `can(SUCCESS)`, cached like admission, so the success path stays a property read. Under the
 *   failure-rate rule every CLOSED success enters the window: those are counted and sent as one
 *   SUCCESS with a `count` before anything could see the difference (breaker-runner.ts), so reads of
 *   the context go through `latest()`. A call that
 *   settles after its caller's signal aborted is cancelled: TRIAL_CANCELLED frees its HALF_OPEN slot;
 *   while CLOSED it changes nothing in the machine.
 * - Time: events that open the breaker carry the clock time (`at`), so the OPEN deadline
 *   (`openedAt`, `reopensAt`) lives in the machine's context; `holdOpen` sends HOLD_OPEN with a
 *   duration; a restore is the machine's `resume` input, bounded by `resetTimeoutMs`.
 * - Totals, time in state and the transition history are bookkeeping kept here, stamped by the
 *   injected clock; they never decide anything.
 */
import type { BreakerState } from '../../machines/breaker.machine.js';
import { type SlidingWindow, windowSlot } from '../../machines/breaker-rule.js';
import { systemClock } from '../clock.js';
import { checkNumber } from '../validate.js';
import { resolveBreakerRule } from './breaker-rule-options.js';
import { BreakerRunner, type BreakerSnapshot } from './breaker-runner.js';
import type {
  BreakerCheckpoint,
  BreakerTransition,
  CircuitBreaker,
  CircuitBreakerMetrics,
  CircuitBreakerOptions,
  ExecuteOptions,
} from './breaker-types.js';
import { isThenable, neverAborted } from './call.js';
import { BreakerStoppedError, type BrokenCircuitError, refusalFor } from './errors.js';

export type {
  BreakerCheckpoint,
  BreakerTransition,
  CircuitBreaker,
  CircuitBreakerMetrics,
  CircuitBreakerOptions,
  ExecuteOptions,
} from './breaker-types.js';
export type { BreakerState };

const HISTORY_LIMIT = 100;
const TRIAL_START = { type: 'TRIAL_START' } as const;
const TRIAL_SUCCESS = { type: 'TRIAL_SUCCESS' } as const;
const TRIAL_CANCELLED = { type: 'TRIAL_CANCELLED' } as const;
const SUCCESS = { type: 'SUCCESS' } as const;
const RESET = { type: 'RESET' } as const;

const countsEveryError = () => true;

/** Outcome of a call admitted in `period` (trial: admitted while HALF_OPEN). */
type Outcome = 'success' | 'failure' | 'cancelled';

class Breaker extends BreakerRunner implements CircuitBreaker {
  readonly name: string;
  /** The machine's answer to "is a call admitted now?", refreshed with every snapshot. */
  private admitting = true;
  /** The machine's answer to `can(SUCCESS)` while CLOSED, refreshed with every snapshot. */
  private successMatters = false;
  /** Bumped on every change of state value: outcomes of calls admitted in an earlier period are stale. */
  private period = 0;
  /** The refusal shared by the calls refused in one period (see `refuse`). */
  private refusalCache: { period: number; reopensAt: number | null; error: BrokenCircuitError } | undefined;
  private readonly isFailure: (error: unknown) => boolean;
  private readonly maxHoldOpenMs: number;
  /** The failure-rate rule's window (its successes are counted, see `countSuccess`); else undefined. */
  private readonly window: SlidingWindow | undefined;
  private totalSuccesses = 0;
  private totalFailures = 0;
  private rejectedCalls = 0;
  private cancelledCalls = 0;
  private tripsCount = 0;
  private openCount = 0;
  private lastOpenDurationMs: number | null = null;
  /** Draws the spread of OPEN periods; undefined when `resetJitter` is 0. */
  private readonly random: (() => number) | undefined;
  private enteredAt: number;
  private readonly timeInStateMs: Record<BreakerState, number> = { CLOSED: 0, OPEN: 0, HALF_OPEN: 0 };
  /** The last transitions, oldest first; made on the first transition (most breakers never trip). */
  private history: BreakerTransition[] | undefined;
  /** Made on the first `onTransition`. */
  private listeners: Set<(transition: BreakerTransition) => void> | undefined;

  constructor(options: CircuitBreakerOptions) {
    super(options.clock ?? systemClock);
    this.name = options.name ?? 'default';
    this.isFailure = options.isFailure ?? countsEveryError;
    this.maxHoldOpenMs = checkNumber('maxHoldOpenMs', options.maxHoldOpenMs ?? 600_000, { min: 0 });
    const input = {
      failureThreshold: checkNumber('failureThreshold', options.failureThreshold ?? 5, {
        positive: true,
        integer: true,
      }),
      resetTimeoutMs: checkNumber('resetTimeoutMs', options.resetTimeoutMs ?? 30_000, { positive: true }),
      halfOpenMaxCalls: checkNumber('halfOpenMaxCalls', options.halfOpenMaxCalls ?? 3, {
        positive: true,
        integer: true,
      }),
      successThreshold: checkNumber('successThreshold', options.successThreshold ?? 2, {
        positive: true,
        integer: true,
      }),
      resetJitter: checkNumber('resetJitter', options.resetJitter ?? 0, { min: 0, below: 1 }),
      rule: resolveBreakerRule(options.rule),
    };
    this.window = input.rule.kind === 'failureRate' ? input.rule.window : undefined;
    this.random = input.resetJitter === 0 ? undefined : (options.random ?? Math.random);
    const now = this.clock.now();
    const restore = options.restore;
    if (restore) {
      const state = restore.state;
      if (state !== 'CLOSED' && state !== 'OPEN' && state !== 'HALF_OPEN')
        throw new RangeError(`restore.state must be CLOSED, OPEN or HALF_OPEN, got ${String(state)}`);
    }
    const resume = restore && {
      state: restore.state,
      consecutiveFailures: restore.consecutiveFailures,
      openedAt: restore.openedAt,
      reopensAt: restore.reopensAt,
      now,
    };
    this.enteredAt = now;
    // Bound methods rather than arrow-function fields: on Node 20 two arrow fields held ~700 bytes per
    // breaker, two bound methods ~100.
    this.closedCallSucceeded = this.closedCallSucceeded.bind(this);
    this.closedCallFailed = this.closedCallFailed.bind(this);
    this.startMachine(resume ? { ...input, resume } : input, options.inspect);
    this.refresh(this.current);
  }

  get snapshot(): BreakerSnapshot {
    return this.latest();
  }

  checkpoint(): BreakerCheckpoint {
    const { context } = this.latest();
    return {
      state: this.state,
      consecutiveFailures: context.consecutiveFailures,
      openedAt: context.openedAt,
      reopensAt: this.state === 'OPEN' ? context.reopensAt : null,
    };
  }

  get state(): BreakerState {
    return this.current.value as BreakerState;
  }

  canAdmit(): boolean {
    return this.admitting && !this.stopped;
  }

  retryAfterMs(): number {
    const reopensAt = this.current.context.reopensAt;
    if (this.state !== 'OPEN' || reopensAt === null) return 0;
    return Math.max(0, Math.ceil(reopensAt - this.clock.now()));
  }

  refusal(): BrokenCircuitError | BreakerStoppedError | undefined {
    if (this.stopped) return new BreakerStoppedError(this.name);
    return this.admitting ? undefined : this.refuse();
  }

  holdOpen(durationMs: number): void {
    if (this.stopped || !(durationMs > 0)) return;
    const capped = Math.ceil(Math.min(durationMs, this.maxHoldOpenMs));
    if (capped > 0) this.send({ type: 'HOLD_OPEN', durationMs: capped, at: this.clock.now() });
  }

  onTransition(listener: (transition: BreakerTransition) => void): () => void {
    if (!this.listeners) this.listeners = new Set();
    const listeners = this.listeners;
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  }

  execute<T>(fn: (signal: AbortSignal) => T | PromiseLike<T>, options?: ExecuteOptions): Promise<T> {
    if (this.current.value !== 'CLOSED' || this.stopped) return this.executeUnlessClosed(fn, options);
    const signal = options?.signal;
    if (signal) return this.run(fn, signal, 0, false);
    let result: T | PromiseLike<T>;
    try {
      result = fn(neverAborted);
    } catch (error) {
      this.failed(error, 0, false);
      return Promise.reject(error);
    }
    if (!isThenable(result)) {
      this.succeeded(0, false);
      return Promise.resolve(result);
    }
    return Promise.resolve(result).then(this.closedCallSucceeded, this.closedCallFailed) as Promise<T>;
  }

  /** Outcome handlers of calls admitted while CLOSED, bound once per breaker (see the constructor). */
  private closedCallSucceeded<T>(value: T): T {
    this.succeeded(0, false);
    return value;
  }
  private closedCallFailed(error: unknown): never {
    this.failed(error, 0, false);
    throw error;
  }

  /** OPEN and HALF_OPEN: refuse, or admit one trial call. */
  private executeUnlessClosed<T>(
    fn: (signal: AbortSignal) => T | PromiseLike<T>,
    options: ExecuteOptions | undefined,
  ): Promise<T> {
    if (this.stopped) return Promise.reject(new BreakerStoppedError(this.name));
    if (!this.admitting) return Promise.reject(this.refuse());
    this.send(TRIAL_START);
    return this.run(fn, options?.signal ?? neverAborted, this.period, true);
  }

  /** Runs an admitted call and records its outcome; settling after `signal` aborted is a cancellation. */
  private run<T>(
    fn: (signal: AbortSignal) => T | PromiseLike<T>,
    signal: AbortSignal,
    period: number,
    trial: boolean,
  ): Promise<T> {
    let result: T | PromiseLike<T>;
    try {
      result = fn(signal);
    } catch (error) {
      this.settle(signal.aborted ? 'cancelled' : 'failure', error, period, trial);
      return Promise.reject(error);
    }
    if (!isThenable(result)) {
      this.settle(signal.aborted ? 'cancelled' : 'success', undefined, period, trial);
      return Promise.resolve(result);
    }
    return Promise.resolve(result).then(
      (value) => {
        this.settle(signal.aborted ? 'cancelled' : 'success', undefined, period, trial);
        return value;
      },
      (error: unknown) => {
        this.settle(signal.aborted ? 'cancelled' : 'failure', error, period, trial);
        throw error;
      },
    );
  }

  private settle(outcome: Outcome, error: unknown, period: number, trial: boolean): void {
    if (outcome === 'success') this.succeeded(period, trial);
    else if (outcome === 'failure') this.failed(error, period, trial);
    else this.cancelled(period, trial);
  }

  reset(): void {
    if (!this.stopped) this.send(RESET);
  }

  metrics(): CircuitBreakerMetrics {
    const state = this.state;
    const timeInStateMs = { ...this.timeInStateMs };
    timeInStateMs[state] += this.clock.now() - this.enteredAt;
    return {
      name: this.name,
      state,
      consecutiveFailures: this.latest().context.consecutiveFailures,
      totalSuccesses: this.totalSuccesses,
      totalFailures: this.totalFailures,
      rejectedCalls: this.rejectedCalls,
      cancelledCalls: this.cancelledCalls,
      tripsCount: this.tripsCount,
      openCount: this.openCount,
      lastOpenDurationMs: this.lastOpenDurationMs,
      timeInStateMs,
      transitions: this.history?.slice() ?? [],
    };
  }

  stop(): void {
    this.listeners?.clear();
    this.halt();
  }

  /**
   * Counts a refusal and returns it: one error per refusal period (state period and OPEN deadline),
   * its `retryAfterMs` read live from the deadline (see {@link refusalFor}).
   */
  private refuse(): BrokenCircuitError {
    this.rejectedCalls++;
    const state = this.state;
    const reopensAt = state === 'OPEN' ? this.current.context.reopensAt : null;
    const cached = this.refusalCache;
    if (cached && cached.period === this.period && cached.reopensAt === reopensAt) return cached.error;
    const error = refusalFor(this.name, state, reopensAt, this.clock);
    this.refusalCache = { period: this.period, reopensAt, error };
    return error;
  }

  private succeeded(period: number, trial: boolean): void {
    this.totalSuccesses++;
    if (this.stopped) return;
    if (this.current.value === 'CLOSED') {
      const window = this.window;
      if (window?.kind === 'time') {
        const at = this.clock.now();
        this.countSuccess(at, windowSlot(window, at));
      } else if (window) this.countSuccess(undefined, 0);
      else if (this.successMatters) this.send(SUCCESS);
    } else if (trial && period === this.period) {
      this.send(TRIAL_SUCCESS);
    }
  }

  private failed(error: unknown, period: number, trial: boolean): void {
    let counts: boolean;
    try {
      counts = this.isFailure(error);
    } catch {
      counts = true;
    }
    if (!counts) {
      this.succeeded(period, trial);
      return;
    }
    this.totalFailures++;
    if (this.stopped) return;
    const state = this.current.value;
    const at = this.clock.now();
    const draw = this.random?.();
    if (state === 'CLOSED') this.send({ type: 'FAILURE', draw, at });
    else if (trial && period === this.period) this.send({ type: 'TRIAL_FAILURE', draw, at });
  }

  private cancelled(period: number, trial: boolean): void {
    this.cancelledCalls++;
    if (this.stopped) return;
    if (trial && period === this.period && this.current.value === 'HALF_OPEN') this.send(TRIAL_CANCELLED);
  }

  /** Caches what the hot path asks the machine: whether a call is admitted and whether SUCCESS matters. */
  private refresh(snapshot: BreakerSnapshot): void {
    this.current = snapshot;
    const value = snapshot.value;
    this.admitting = value === 'CLOSED' || (value === 'HALF_OPEN' && snapshot.can(TRIAL_START));
    this.successMatters = value === 'CLOSED' && snapshot.can(SUCCESS);
  }

  protected observe(snapshot: BreakerSnapshot): void {
    const previous = this.current;
    if (!previous) return; // an actor's initial snapshot, read after start()
    this.refresh(snapshot);
    if (previous.value === snapshot.value && previous.context.openedAt === snapshot.context.openedAt) return;
    const from = previous.value as BreakerState;
    const to = snapshot.value as BreakerState;
    const at = this.clock.now();
    this.period++;
    this.timeInStateMs[from] += at - this.enteredAt;
    this.enteredAt = at;
    if (from === 'OPEN') this.lastOpenDurationMs = at - (previous.context.openedAt ?? at);
    if (to === 'OPEN') {
      this.openCount++;
      if (from === 'CLOSED') this.tripsCount++;
    }
    const transition = { from, to, at, reason: snapshot.context.reason };
    if (!this.history) this.history = [];
    const history = this.history;
    history.push(transition);
    if (history.length > HISTORY_LIMIT) history.shift();
    if (!this.listeners) return;
    for (const listener of this.listeners) {
      try {
        listener(transition);
      } catch {
        // A listener must never break the breaker.
      }
    }
  }
}

/**
 * Creates a circuit breaker run by {@link breakerMachine}: its snapshot advanced by the machine's pure
 * transition and its reset timer on `clock`, with no XState actor until `actor` is first read; that
 * actor then starts from the current snapshot, takes over the pending timer, and is driven by the
 * breaker from then on (with `inspect`, the actor exists from the start).
 */
export function createCircuitBreaker(options: CircuitBreakerOptions = {}): CircuitBreaker {
  return new Breaker(options);
}
