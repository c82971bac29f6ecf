import { assign, setup } from 'xstate';
import { type BreakerRule, failureRateTrips, recordOutcome, type WindowBucket } from './breaker-rule.js';

export type { BreakerRule, WindowBucket };

/** The breaker's states; these exact strings are the machine's state values. */
export type BreakerState = 'CLOSED' | 'OPEN' | 'HALF_OPEN';

/** Where a breaker resumes instead of starting CLOSED (a saved state restored after a restart). */
export interface BreakerResumePoint {
  state: BreakerState;
  consecutiveFailures: number;
  /** Clock time of the last entry into OPEN, or null if it never opened. */
  openedAt: number | null;
  /** OPEN: clock time at which it moves to HALF_OPEN; null otherwise. */
  reopensAt: number | null;
  /** Clock time of the restore. A resumed OPEN period ends by `now + resetTimeoutMs` at the latest. */
  now: number;
}

export interface BreakerMachineInput {
  failureThreshold: number;
  resetTimeoutMs: number;
  halfOpenMaxCalls: number;
  successThreshold: number;
  /**
   * Spread of the OPEN period, in [0, 1): it lasts `resetTimeoutMs · (1 − resetJitter · draw)`, where
   * `draw` in [0, 1) comes with the failure that opened the breaker. Default 0.
   */
  resetJitter?: number;
  /** Resume from a saved state instead of CLOSED (see {@link BreakerResumePoint}). */
  resume?: BreakerResumePoint;
  /** When CLOSED trips (see {@link BreakerRule}). Default `{ kind: 'consecutive' }` (`failureThreshold`). */
  rule?: BreakerRule;
}

export interface BreakerContext {
  failureThreshold: number;
  resetTimeoutMs: number;
  halfOpenMaxCalls: number;
  successThreshold: number;
  resetJitter: number;
  /** Time from entering (or resuming) the current OPEN period to leaving it: the reset timer's delay. */
  openDelayMs: number;
  /** Clock time of the last entry into OPEN, or null if it never opened. */
  openedAt: number | null;
  /** While OPEN: clock time at which it moves to HALF_OPEN (the OPEN deadline); null otherwise. */
  reopensAt: number | null;
  consecutiveFailures: number;
  /** Trial calls admitted in the current HALF_OPEN period and not finished yet. */
  trialsInFlight: number;
  /** Successful trial calls in the current HALF_OPEN period. */
  trialSuccesses: number;
  /** Why the machine last changed state (shown in the transition history). */
  reason: string;
  /** Where to resume; read once on start, then null. */
  resume: BreakerResumePoint | null;
  /** The trip rule: consecutive failures, or the failure rate over {@link BreakerContext.window}. */
  rule: BreakerRule;
  /** Failure-rate rule: the outcomes of the calls in the sliding window (bounded); [] otherwise. */
  window: WindowBucket[];
}

export type BreakerEvent =
  /**
   * `count` (default 1) calls admitted while CLOSED succeeded (or failed with an error that is not a
   * failure), at clock time `at` (read by a time window only; the calls of one event share its slot):
   * the same as `count` events of one call each.
   */
  | { type: 'SUCCESS'; at?: number; count?: number }
  /**
   * A call admitted while CLOSED failed at clock time `at`; `draw` in [0, 1) spreads the OPEN period
   * if this trips.
   */
  | { type: 'FAILURE'; draw?: number; at?: number }
  /** Asks to admit one trial call while HALF_OPEN; refused (no transition) when the trial slots are full. */
  | { type: 'TRIAL_START' }
  /** An admitted trial call finished; ignored when no trial is in flight. */
  | { type: 'TRIAL_SUCCESS' }
  | { type: 'TRIAL_FAILURE'; draw?: number; at?: number }
  /**
   * An admitted trial call settled after its caller aborted: neither success nor failure. It frees its
   * trial slot and changes nothing else.
   */
  | { type: 'TRIAL_CANCELLED' }
  /**
   * The backend asked to be left alone for `durationMs` (an HTTP `Retry-After`): OPEN from now until
   * `at + durationMs`, unless an OPEN period already ends later.
   */
  | { type: 'HOLD_OPEN'; durationMs: number; at?: number }
  | { type: 'RESET' };

/** The context a breaker starts with. */
export function breakerContext(input: BreakerMachineInput): BreakerContext {
  return {
    failureThreshold: input.failureThreshold,
    resetTimeoutMs: input.resetTimeoutMs,
    halfOpenMaxCalls: input.halfOpenMaxCalls,
    successThreshold: input.successThreshold,
    resetJitter: input.resetJitter ?? 0,
    openDelayMs: input.resetTimeoutMs,
    openedAt: null,
    reopensAt: null,
    consecutiveFailures: 0,
    trialsInFlight: 0,
    trialSuccesses: 0,
    reason: 'created',
    resume: input.resume ?? null,
    rule: input.rule ?? { kind: 'consecutive' },
    window: [],
  };
}

function finiteOr(value: number | null | undefined, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

/**
 * The OPEN deadline a resumed breaker keeps: the saved one, but never before `now` and never later
 * than `resetTimeoutMs` after it (a clock that was ahead must not hold a healthy backend off).
 */
export function resumedDeadline(resume: BreakerResumePoint, resetTimeoutMs: number): number {
  const saved = finiteOr(resume.reopensAt, resume.now);
  return Math.min(Math.max(saved, resume.now), resume.now + resetTimeoutMs);
}

/** Type of the event of OPEN's `after: { resetTimeout }` transition (XState's `xstate.after.<delay>.<id>`). */
export const BREAKER_RESET_TIMEOUT_EVENT = 'xstate.after.resetTimeout.breaker.OPEN';

const atOf = (event: BreakerEvent): number => ('at' in event ? (event.at ?? 0) : 0);
const countOf = (event: BreakerEvent): number => (event.type === 'SUCCESS' ? (event.count ?? 1) : 1);

/**
 * The circuit breaker as pure data. CLOSED counts consecutive failures and trips to OPEN by its rule
 * (`failureThreshold` in a row, or, with the failure-rate rule, the failure rate over a sliding window
 * of recent outcomes kept in context: see breaker-rule.ts); OPEN moves to HALF_OPEN by its own timer (`resetTimeout`), with no call needed;
 * HALF_OPEN admits a bounded number of trial calls, closes after enough successes and reopens on
 * the first failure; a cancelled trial only frees its slot. HOLD_OPEN opens it for a given time.
 * `RESET` returns to CLOSED from anywhere. It starts CLOSED, or, given a `resume` input, moves at once
 * (before its first snapshot is observed) to where that says.
 */
export const breakerMachine = setup({
  types: {
    input: {} as BreakerMachineInput,
    context: {} as BreakerContext,
    events: {} as BreakerEvent,
  },
  guards: {
    hasFailures: ({ context }) => context.consecutiveFailures > 0,
    reachesFailureThreshold: ({ context }) =>
      context.rule.kind === 'consecutive' && context.consecutiveFailures + 1 >= context.failureThreshold,
    /** Failure-rate rule: the window, this failure included, holds enough calls and enough failures. */
    reachesFailureRate: ({ context, event }) =>
      context.rule.kind === 'failureRate' &&
      failureRateTrips(
        context.rule,
        recordOutcome(context.window, context.rule.window, true, atOf(event)),
        atOf(event),
      ),
    /** Failure-rate rule: every outcome of a CLOSED call enters the window. */
    recordsOutcomes: ({ context }) => context.rule.kind === 'failureRate',
    hasTrialCapacity: ({ context }) => context.trialsInFlight < context.halfOpenMaxCalls,
    hasTrialInFlight: ({ context }) => context.trialsInFlight > 0,
    closesAfterThisTrial: ({ context }) =>
      context.trialsInFlight > 0 && context.trialSuccesses + 1 >= context.successThreshold,
    /** HOLD_OPEN while OPEN: only a later deadline replaces the current one. */
    extendsOpenPeriod: ({ context, event }) =>
      event.type === 'HOLD_OPEN' && atOf(event) + event.durationMs > (context.reopensAt ?? 0),
    resumesOpen: ({ context }) =>
      context.resume?.state === 'OPEN' &&
      resumedDeadline(context.resume, context.resetTimeoutMs) > context.resume.now,
    resumesHalfOpen: ({ context }) => context.resume !== null && context.resume.state !== 'CLOSED',
    hasResumePoint: ({ context }) => context.resume !== null,
  },
  actions: {
    countFailure: assign({ consecutiveFailures: ({ context }) => context.consecutiveFailures + 1 }),
    clearFailures: assign({ consecutiveFailures: 0 }),
    recordSuccess: assign(({ context, event }) => ({
      consecutiveFailures: 0,
      window:
        context.rule.kind === 'failureRate'
          ? recordOutcome(context.window, context.rule.window, false, atOf(event), countOf(event))
          : context.window,
    })),
    recordFailure: assign({
      window: ({ context, event }) =>
        context.rule.kind === 'failureRate'
          ? recordOutcome(context.window, context.rule.window, true, atOf(event))
          : context.window,
    }),
    clearWindow: assign({ window: [] }),
    startTrial: assign({ trialsInFlight: ({ context }) => context.trialsInFlight + 1 }),
    countTrialSuccess: assign({
      trialsInFlight: ({ context }) => context.trialsInFlight - 1,
      trialSuccesses: ({ context }) => context.trialSuccesses + 1,
    }),
    releaseTrial: assign({ trialsInFlight: ({ context }) => context.trialsInFlight - 1 }),
    clearTrials: assign({ trialsInFlight: 0, trialSuccesses: 0 }),
    clearDeadline: assign({ reopensAt: null }),
    planReset: assign(({ context, event }) => {
      const draw = 'draw' in event ? (event.draw ?? 0) : 0;
      const openDelayMs = context.resetTimeoutMs * (1 - context.resetJitter * draw);
      const at = atOf(event);
      return { openDelayMs, openedAt: at, reopensAt: at + openDelayMs };
    }),
    planHold: assign(({ event }) => {
      const durationMs = event.type === 'HOLD_OPEN' ? Math.max(0, event.durationMs) : 0;
      const at = atOf(event);
      return { openDelayMs: durationMs, openedAt: at, reopensAt: at + durationMs };
    }),
    resume: assign(({ context }) => {
      const resume = context.resume as BreakerResumePoint;
      const reopensAt = resumedDeadline(resume, context.resetTimeoutMs);
      const opened = finiteOr(resume.openedAt, Number.NaN);
      return {
        resume: null,
        consecutiveFailures: Math.max(0, Math.floor(finiteOr(resume.consecutiveFailures, 0))),
        openedAt: Number.isNaN(opened) ? null : Math.min(opened, resume.now),
        reopensAt: resume.state === 'OPEN' ? reopensAt : null,
        openDelayMs: resume.state === 'OPEN' ? reopensAt - resume.now : context.openDelayMs,
        reason: 'restored',
      };
    }),
    recordReason: assign({ reason: (_, params: { reason: string }) => params.reason }),
  },
  delays: {
    resetTimeout: ({ context }) => context.openDelayMs,
  },
}).createMachine({
  id: 'breaker',
  context: ({ input }) => breakerContext(input),
  initial: 'CLOSED',
  on: {
    RESET: {
      target: '.CLOSED',
      reenter: true,
      actions: ['clearFailures', { type: 'recordReason', params: { reason: 'manual reset' } }],
    },
  },
  states: {
    CLOSED: {
      entry: ['clearDeadline', 'clearWindow'],
      // A resume point is read once, on start (the action clears it): the breaker resumes where it was.
      always: [
        { guard: 'resumesOpen', target: 'OPEN', actions: 'resume' },
        { guard: 'resumesHalfOpen', target: 'HALF_OPEN', actions: 'resume' },
        { guard: 'hasResumePoint', actions: 'resume' },
      ],
      on: {
        SUCCESS: [
          { guard: 'recordsOutcomes', actions: 'recordSuccess' },
          { guard: 'hasFailures', actions: 'clearFailures' },
        ],
        FAILURE: [
          {
            guard: 'reachesFailureThreshold',
            target: 'OPEN',
            actions: [
              'countFailure',
              'planReset',
              { type: 'recordReason', params: { reason: 'failure threshold reached' } },
            ],
          },
          {
            guard: 'reachesFailureRate',
            target: 'OPEN',
            actions: [
              'countFailure',
              'planReset',
              { type: 'recordReason', params: { reason: 'failure rate threshold reached' } },
            ],
          },
          { guard: 'recordsOutcomes', actions: ['countFailure', 'recordFailure'] },
          { actions: 'countFailure' },
        ],
        HOLD_OPEN: {
          target: 'OPEN',
          actions: ['planHold', { type: 'recordReason', params: { reason: 'backend asked to wait' } }],
        },
      },
    },
    OPEN: {
      after: {
        resetTimeout: {
          target: 'HALF_OPEN',
          actions: ['clearDeadline', { type: 'recordReason', params: { reason: 'reset timeout elapsed' } }],
        },
      },
      on: {
        HOLD_OPEN: {
          guard: 'extendsOpenPeriod',
          target: 'OPEN',
          reenter: true,
          actions: ['planHold', { type: 'recordReason', params: { reason: 'backend asked to wait' } }],
        },
      },
    },
    HALF_OPEN: {
      entry: 'clearTrials',
      on: {
        TRIAL_START: { guard: 'hasTrialCapacity', actions: 'startTrial' },
        TRIAL_SUCCESS: [
          {
            guard: 'closesAfterThisTrial',
            target: 'CLOSED',
            actions: ['clearFailures', { type: 'recordReason', params: { reason: 'trial calls succeeded' } }],
          },
          { guard: 'hasTrialInFlight', actions: 'countTrialSuccess' },
        ],
        TRIAL_FAILURE: {
          guard: 'hasTrialInFlight',
          target: 'OPEN',
          actions: [
            'countFailure',
            'planReset',
            { type: 'recordReason', params: { reason: 'trial call failed' } },
          ],
        },
        TRIAL_CANCELLED: { guard: 'hasTrialInFlight', actions: 'releaseTrial' },
        HOLD_OPEN: {
          target: 'OPEN',
          actions: ['planHold', { type: 'recordReason', params: { reason: 'backend asked to wait' } }],
        },
      },
    },
  },
});

export type BreakerMachine = typeof breakerMachine;
