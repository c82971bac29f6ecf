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
  context: ({ input }) => ({
    ...input,
    resetJitter: input.resetJitter ?? 0,
    openDelayMs: input.resetTimeoutMs,
    consecutiveFailures: 0,
    trialsInFlight: 0,
    trialSuccesses: 0,
    reason: 'created',
  }),
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
