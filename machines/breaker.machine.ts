import { assign, setup } from 'xstate';

/** The breaker's states; these exact strings are the machine's state values. */
export type BreakerState = 'CLOSED' | 'OPEN' | 'HALF_OPEN';

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
}

export interface BreakerContext extends Required<BreakerMachineInput> {
  /** Length of the current (or last) OPEN period. */
  openDelayMs: number;
  consecutiveFailures: number;
  /** Trial calls admitted in the current HALF_OPEN period and not finished yet. */
  trialsInFlight: number;
  /** Successful trial calls in the current HALF_OPEN period. */
  trialSuccesses: number;
  /** Why the machine last changed state (shown in the transition history). */
  reason: string;
}

export type BreakerEvent =
  /** A call admitted while CLOSED succeeded (or failed with an error that is not a failure). */
  | { type: 'SUCCESS' }
  /** A call admitted while CLOSED failed; `draw` in [0, 1) spreads the OPEN period if this trips. */
  | { type: 'FAILURE'; draw?: number }
  /** Asks to admit one trial call while HALF_OPEN; refused (no transition) when the trial slots are full. */
  | { type: 'TRIAL_START' }
  /** An admitted trial call finished; ignored when no trial is in flight. */
  | { type: 'TRIAL_SUCCESS' }
  | { type: 'TRIAL_FAILURE'; draw?: number }
  | { type: 'RESET' };

/** The context a breaker starts with. */
export function breakerContext(input: BreakerMachineInput): BreakerContext {
  return {
    ...input,
    resetJitter: input.resetJitter ?? 0,
    openDelayMs: input.resetTimeoutMs,
    consecutiveFailures: 0,
    trialsInFlight: 0,
    trialSuccesses: 0,
    reason: 'created',
  };
}

/**
 * Type of the event of OPEN's `after: { resetTimeout }` transition (XState's `xstate.after.<delay>.<id>`).
 * It is scheduled on entry to OPEN, and cancelled on exit, under this same id.
 */
export const BREAKER_RESET_TIMEOUT_EVENT = 'xstate.after.resetTimeout.breaker.OPEN';

/** Where a restored breaker resumes. */
export interface BreakerResumePoint {
  state: BreakerState;
  consecutiveFailures: number;
  /** Length of the OPEN period the breaker is in (OPEN) or was last in. */
  openDelayMs: number;
}

/**
 * A snapshot of {@link breakerMachine} in `at.state` with `at`'s failure count and OPEN period and no
 * trial in flight, to start an actor from (`createActor(breakerMachine, { snapshot })`). XState does
 * not run entry actions of a restored snapshot, so OPEN's reset timer is not scheduled: whoever
 * restores an OPEN breaker schedules {@link BREAKER_RESET_TIMEOUT_EVENT} for the remaining time
 * (or sends it at once when the deadline has passed).
 */
export function restoredBreakerSnapshot(input: BreakerMachineInput, at: BreakerResumePoint) {
  return breakerMachine.resolveState({
    value: at.state,
    context: {
      ...breakerContext(input),
      consecutiveFailures: at.consecutiveFailures,
      openDelayMs: at.openDelayMs,
      reason: 'restored',
    },
  });
}

/**
 * The circuit breaker as pure data. CLOSED counts consecutive failures and trips to OPEN at the
 * threshold; OPEN moves to HALF_OPEN by its own timer (`resetTimeout`), with no call needed;
 * HALF_OPEN admits a bounded number of trial calls, closes after enough successes and reopens on
 * the first failure. `RESET` returns to CLOSED from anywhere.
 */
export const breakerMachine = setup({
  types: {
    input: {} as BreakerMachineInput,
    context: {} as BreakerContext,
    events: {} as BreakerEvent,
  },
  guards: {
    hasFailures: ({ context }) => context.consecutiveFailures > 0,
    reachesFailureThreshold: ({ context }) => context.consecutiveFailures + 1 >= context.failureThreshold,
    hasTrialCapacity: ({ context }) => context.trialsInFlight < context.halfOpenMaxCalls,
    hasTrialInFlight: ({ context }) => context.trialsInFlight > 0,
    closesAfterThisTrial: ({ context }) =>
      context.trialsInFlight > 0 && context.trialSuccesses + 1 >= context.successThreshold,
  },
  actions: {
    countFailure: assign({ consecutiveFailures: ({ context }) => context.consecutiveFailures + 1 }),
    clearFailures: assign({ consecutiveFailures: 0 }),
    startTrial: assign({ trialsInFlight: ({ context }) => context.trialsInFlight + 1 }),
    countTrialSuccess: assign({
      trialsInFlight: ({ context }) => context.trialsInFlight - 1,
      trialSuccesses: ({ context }) => context.trialSuccesses + 1,
    }),
    clearTrials: assign({ trialsInFlight: 0, trialSuccesses: 0 }),
    planReset: assign({
      openDelayMs: ({ context, event }) =>
        context.resetTimeoutMs * (1 - context.resetJitter * ('draw' in event ? (event.draw ?? 0) : 0)),
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
      on: {
        SUCCESS: { guard: 'hasFailures', actions: 'clearFailures' },
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
          { actions: 'countFailure' },
        ],
      },
    },
    OPEN: {
      after: {
        resetTimeout: {
          target: 'HALF_OPEN',
          actions: { type: 'recordReason', params: { reason: 'reset timeout elapsed' } },
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
      },
    },
  },
});

export type BreakerMachine = typeof breakerMachine;
