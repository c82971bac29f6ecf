/*
 * How the hot path and the machine share the work.
 *
 * `breakerMachine` is the only source of truth for the breaker's state, its failure count and
 * HALF_OPEN admission. This wrapper keeps `current`, the machine's latest snapshot, refreshed by a
 * synchronous subscription, so reading the state costs a property read instead of `getSnapshot()`.
 *
 * - Admission: CLOSED admits by reading `current.value`; OPEN refuses the same way. HALF_OPEN sends
 *   TRIAL_START only when `current.can(TRIAL_START)` says the machine's guard admits it.
 * - Outcomes: every outcome that can change the machine is sent as an event (FAILURE, a SUCCESS that
 *   clears a non-zero failure count, TRIAL_*). A success while CLOSED with no failures counted matches
 *   no enabled transition in the machine, so it is not sent: it only bumps a plain counter.
 * - Totals, time in state and the transition history are bookkeeping kept here, stamped by the
 *   injected clock; they never decide anything.
 */
import { type Actor, type AnyActorRef, createActor, type SnapshotFrom, setup, stopChild } from 'xstate';
import {
  BREAKER_RESET_TIMEOUT_EVENT,
  type BreakerMachine,
  type BreakerState,
  breakerMachine,
  restoredBreakerSnapshot,
} from '../../machines/breaker.machine.js';
import { type Clock, systemClock } from '../clock.js';
import { checkNumber } from '../validate.js';
import type {
  BreakerCheckpoint,
  BreakerTransition,
  CircuitBreaker,
  CircuitBreakerMetrics,
  CircuitBreakerOptions,
  ExecuteOptions,
} from './breaker-types.js';
import { isThenable, neverAborted } from './call.js';
import { BreakerStoppedError, BrokenCircuitError } from './errors.js';

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
const TRIAL_FAILURE = { type: 'TRIAL_FAILURE' } as const;
const SUCCESS = { type: 'SUCCESS' } as const;
const FAILURE = { type: 'FAILURE' } as const;
const RESET = { type: 'RESET' } as const;

const countsEveryError = () => true;

function finiteOr(value: number | null | undefined, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

/**
 * One idle root actor per clock, parent of every breaker actor on that clock: its children share one
 * XState actor system (scheduler, registry) instead of building one each (`npm run bench` prints the
 * heap per breaker). The system keeps started children until they stop, hence `abandoned`.
 */
const hosts = new WeakMap<Clock, AnyActorRef>();
const hostMachine = setup({
  types: { events: {} as { type: 'RELEASE'; actor: AnyActorRef } },
  actions: { releaseChild: stopChild(({ event }) => event.actor) },
}).createMachine({ id: 'breakers', on: { RELEASE: { actions: 'releaseChild' } } });
function hostFor(clock: Clock): AnyActorRef {
  let host = hosts.get(clock);
  if (!host) {
    host = createActor(hostMachine, { clock }).start();
    hosts.set(clock, host);
  }
  return host;
}

/** Stops the actor of a breaker that was garbage-collected without `stop()`. */
const abandoned = new FinalizationRegistry<Actor<BreakerMachine>>(stopActor);

function stopActor(actor: Actor<BreakerMachine>): void {
  // A child actor is stopped by its parent.
  const parent = actor._parent;
  if (parent) parent.send({ type: 'RELEASE', actor });
  else actor.stop();
}

class Breaker implements CircuitBreaker {
  readonly name: string;
  readonly actor: Actor<BreakerMachine>;
  private current: SnapshotFrom<BreakerMachine>;
  /** Bumped on every change of state value: outcomes of calls admitted in an earlier period are stale. */
  private period = 0;
  private stopped = false;
  private readonly clock: Clock;
  private readonly isFailure: (error: unknown) => boolean;
  private totalSuccesses = 0;
  private totalFailures = 0;
  private rejectedCalls = 0;
  private tripsCount = 0;
  private openCount = 0;
  private lastOpenDurationMs: number | null = null;
  /** Clock time of the last entry into OPEN (0 before any). */
  private openedAt = 0;
  private everOpened = false;
  /** Draws the spread of OPEN periods; undefined when `resetJitter` is 0. */
  private readonly random: (() => number) | undefined;
  private enteredAt: number;
  private readonly timeInStateMs: Record<BreakerState, number> = { CLOSED: 0, OPEN: 0, HALF_OPEN: 0 };
  private readonly history: BreakerTransition[] = [];

  constructor(options: CircuitBreakerOptions) {
    this.name = options.name ?? 'default';
    this.clock = options.clock ?? systemClock;
    this.isFailure = options.isFailure ?? countsEveryError;
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
    };
    const resetJitter = checkNumber('resetJitter', options.resetJitter ?? 0, { min: 0, below: 1 });
    this.random = resetJitter === 0 ? undefined : (options.random ?? Math.random);
    // With an inspector the breaker gets an actor system of its own, so the inspector sees only it;
    // otherwise it joins the shared system of its clock (see `hostFor`).
    const restore = options.restore;
    const now = this.clock.now();
    let resume: { openedAt: number; reopensAt: number } | null = null;
    let snapshot: ReturnType<typeof restoredBreakerSnapshot> | undefined;
    if (restore) {
      const state = restore.state;
      if (state !== 'CLOSED' && state !== 'OPEN' && state !== 'HALF_OPEN')
        throw new RangeError(`restore.state must be CLOSED, OPEN or HALF_OPEN, got ${String(state)}`);
      const openedAt = finiteOr(restore.openedAt, now);
      const reopensAt = state === 'OPEN' ? finiteOr(restore.reopensAt, now) : openedAt + input.resetTimeoutMs;
      if (state === 'OPEN') resume = { openedAt, reopensAt };
      if (restore.openedAt !== null && Number.isFinite(restore.openedAt)) {
        this.openedAt = openedAt;
        this.everOpened = true;
      }
      snapshot = restoredBreakerSnapshot(
        { ...input, resetJitter },
        {
          state,
          consecutiveFailures: Math.max(0, Math.floor(finiteOr(restore.consecutiveFailures, 0))),
          openDelayMs: Math.max(0, reopensAt - openedAt),
        },
      );
    }
    // `input` is required by the machine's type; with a `snapshot` XState does not read it.
    const start = { input: { ...input, resetJitter }, ...(snapshot ? { snapshot } : {}) };
    this.actor = createActor(
      breakerMachine,
      options.inspect
        ? { ...start, clock: this.clock, inspect: options.inspect }
        : { ...start, parent: hostFor(this.clock) },
    );
    // The actor holds this wrapper only weakly, so a breaker dropped without stop() can be collected.
    const self = new WeakRef(this);
    this.actor.subscribe((snapshot) => self.deref()?.observe(snapshot));
    abandoned.register(this, this.actor, this.actor);
    this.actor.start();
    this.current = this.actor.getSnapshot();
    this.enteredAt = now;
    if (resume) this.resumeOpen(resume.reopensAt - now);
  }

  /**
   * A restored OPEN breaker: XState does not schedule the `after` timer of a restored snapshot, so
   * schedule OPEN's own reset-timeout event for the time left, under the id XState gives it (OPEN's
   * exit cancels it like one it scheduled itself); past the deadline, send it now.
   */
  private resumeOpen(remainingMs: number): void {
    const event = { type: BREAKER_RESET_TIMEOUT_EVENT } as const;
    if (remainingMs <= 0) {
      (this.actor as unknown as AnyActorRef).send(event);
      return;
    }
    this.actor.system.scheduler.schedule(this.actor, this.actor, event, remainingMs, event.type);
  }

  checkpoint(): BreakerCheckpoint {
    const state = this.current.value;
    return {
      state,
      consecutiveFailures: this.current.context.consecutiveFailures,
      openedAt: this.everOpened ? this.openedAt : null,
      reopensAt: state === 'OPEN' ? this.openedAt + this.current.context.openDelayMs : null,
    };
  }

  get state(): BreakerState {
    return this.current.value;
  }

  execute<T>(fn: (signal: AbortSignal) => T | PromiseLike<T>, options?: ExecuteOptions): Promise<T> {
    if (this.current.value !== 'CLOSED' || this.stopped) return this.executeUnlessClosed(fn, options);
    let result: T | PromiseLike<T>;
    try {
      result = fn(options?.signal ?? neverAborted);
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

  /** Outcome handlers of calls admitted while CLOSED, made once per breaker instead of once per call. */
  private readonly closedCallSucceeded = <T>(value: T): T => {
    this.succeeded(0, false);
    return value;
  };
  private readonly closedCallFailed = (error: unknown): never => {
    this.failed(error, 0, false);
    throw error;
  };

  /** OPEN and HALF_OPEN: refuse, or admit one trial call. */
  private executeUnlessClosed<T>(
    fn: (signal: AbortSignal) => T | PromiseLike<T>,
    options: ExecuteOptions | undefined,
  ): Promise<T> {
    if (this.stopped) return Promise.reject(new BreakerStoppedError(this.name));
    const state = this.current.value;
    if (state === 'OPEN' || !this.current.can(TRIAL_START)) return Promise.reject(this.refuse(state));
    this.actor.send(TRIAL_START);
    const period = this.period;
    let result: T | PromiseLike<T>;
    try {
      result = fn(options?.signal ?? neverAborted);
    } catch (error) {
      this.failed(error, period, true);
      return Promise.reject(error);
    }
    if (!isThenable(result)) {
      this.succeeded(period, true);
      return Promise.resolve(result);
    }
    return Promise.resolve(result).then(
      (value) => {
        this.succeeded(period, true);
        return value;
      },
      (error: unknown) => {
        this.failed(error, period, true);
        throw error;
      },
    );
  }

  reset(): void {
    if (!this.stopped) this.actor.send(RESET);
  }

  metrics(): CircuitBreakerMetrics {
    const state = this.current.value;
    const timeInStateMs = { ...this.timeInStateMs };
    timeInStateMs[state] += this.clock.now() - this.enteredAt;
    return {
      name: this.name,
      state,
      consecutiveFailures: this.current.context.consecutiveFailures,
      totalSuccesses: this.totalSuccesses,
      totalFailures: this.totalFailures,
      rejectedCalls: this.rejectedCalls,
      tripsCount: this.tripsCount,
      openCount: this.openCount,
      lastOpenDurationMs: this.lastOpenDurationMs,
      timeInStateMs,
      transitions: this.history.slice(),
    };
  }

  stop(): void {
    this.stopped = true;
    abandoned.unregister(this.actor);
    stopActor(this.actor);
  }

  private refuse(state: BreakerState): BrokenCircuitError {
    this.rejectedCalls++;
    const retryAfterMs =
      state === 'OPEN' ? Math.max(0, this.openedAt + this.current.context.openDelayMs - this.clock.now()) : 0;
    // Refusals are made by the thousand during an outage and their stack would only show this method:
    // skipping its capture makes a fast-fail several times cheaper.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      return new BrokenCircuitError(this.name, state, retryAfterMs);
    } finally {
      Error.stackTraceLimit = stackTraceLimit;
    }
  }

  private succeeded(period: number, trial: boolean): void {
    this.totalSuccesses++;
    if (this.stopped) return;
    const state = this.current.value;
    if (state === 'CLOSED') {
      if (this.current.context.consecutiveFailures > 0) this.actor.send(SUCCESS);
    } else if (trial && period === this.period) {
      this.actor.send(TRIAL_SUCCESS);
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
    const draw = this.random?.();
    if (state === 'CLOSED') this.actor.send(draw === undefined ? FAILURE : { type: 'FAILURE', draw });
    else if (trial && period === this.period) {
      this.actor.send(draw === undefined ? TRIAL_FAILURE : { type: 'TRIAL_FAILURE', draw });
    }
  }

  observe(snapshot: SnapshotFrom<BreakerMachine>): void {
    const previous = this.current;
    this.current = snapshot;
    if (!previous || previous.value === snapshot.value) return;
    const from = previous.value;
    const to = snapshot.value;
    const at = this.clock.now();
    this.period++;
    this.timeInStateMs[from] += at - this.enteredAt;
    this.enteredAt = at;
    if (from === 'OPEN') this.lastOpenDurationMs = at - this.openedAt;
    if (to === 'OPEN') {
      this.openCount++;
      this.openedAt = at;
      this.everOpened = true;
      if (from === 'CLOSED') this.tripsCount++;
    }
    this.history.push({ from, to, at, reason: snapshot.context.reason });
    if (this.history.length > HISTORY_LIMIT) this.history.shift();
  }
}

/** Creates a circuit breaker backed by a started {@link breakerMachine} actor. */
export function createCircuitBreaker(options: CircuitBreakerOptions = {}): CircuitBreaker {
  return new Breaker(options);
}
