import { assign, fromPromise, setup } from 'xstate';
import { backoffDelay, middleOfBand } from './backoff.js';

export interface RetryMachineInput {
  /** Name of the operation (for metrics and the inspector). */
  operation: string;
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  jitter: number;
}

export interface RetryContext {
  operation: string;
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  jitter: number;
  /** Index of the attempt running or last run; the first attempt is 0. */
  attempt: number;
  /** Delay before the retry being waited for. */
  nextDelayMs: number;
  /** Sum of the delays waited so far. */
  totalDelayMs: number;
  lastError: unknown;
  output: unknown;
  abortReason: unknown;
}

export type RetryEvent = { type: 'ABORT'; reason: unknown };

export interface RetryAttemptInput {
  attempt: number;
}

/**
 * The retry loop as pure data: attempting → (evaluating → waiting on a computed delay → attempting)…
 * → succeeded | failed, and aborted from anywhere on ABORT. The attempt itself (`attempt`), the retry
 * decision (`isRetryable`), the delay (`planBackoff`) and the logging hook (`notifyRetry`) are provided
 * by `retry()`; the defaults here retry nothing and use the middle of the jitter band, so the machine
 * alone is deterministic.
 */
export const retryMachine = setup({
  types: {
    input: {} as RetryMachineInput,
    context: {} as RetryContext,
    events: {} as RetryEvent,
  },
  actors: {
    attempt: fromPromise<unknown, RetryAttemptInput>(async () => {
      throw new Error('retryMachine: provide the "attempt" actor');
    }),
  },
  guards: {
    isOutOfRetries: ({ context }) => context.attempt >= context.maxRetries,
    isRetryable: () => false,
  },
  actions: {
    recordOutput: assign({ output: (_, params: { output: unknown }) => params.output }),
    recordError: assign({ lastError: (_, params: { error: unknown }) => params.error }),
    recordAbort: assign({ abortReason: (_, params: { reason: unknown }) => params.reason }),
    planBackoff: assign({
      nextDelayMs: ({ context }) => backoffDelay(context.attempt, context, middleOfBand),
    }),
    notifyRetry: () => {},
    startNextAttempt: assign({
      attempt: ({ context }) => context.attempt + 1,
      totalDelayMs: ({ context }) => context.totalDelayMs + context.nextDelayMs,
    }),
  },
  delays: {
    backoff: ({ context }) => context.nextDelayMs,
  },
}).createMachine({
  id: 'retry',
  context: ({ input }) => ({
    operation: input.operation,
    maxRetries: input.maxRetries,
    baseDelayMs: input.baseDelayMs,
    maxDelayMs: input.maxDelayMs,
    jitter: input.jitter,
    attempt: 0,
    nextDelayMs: 0,
    totalDelayMs: 0,
    lastError: undefined,
    output: undefined,
    abortReason: undefined,
  }),
  initial: 'attempting',
  on: {
    ABORT: {
      target: '.aborted',
      actions: { type: 'recordAbort', params: ({ event }) => ({ reason: event.reason }) },
    },
  },
  states: {
    attempting: {
      invoke: {
        id: 'attempt',
        src: 'attempt',
        input: ({ context }) => ({ attempt: context.attempt }),
        onDone: {
          target: 'succeeded',
          actions: { type: 'recordOutput', params: ({ event }) => ({ output: event.output }) },
        },
        onError: {
          target: 'evaluating',
          actions: { type: 'recordError', params: ({ event }) => ({ error: event.error }) },
        },
      },
    },
    evaluating: {
      always: [
        { guard: 'isOutOfRetries', target: 'failed' },
        { guard: 'isRetryable', target: 'waiting', actions: ['planBackoff', 'notifyRetry'] },
        { target: 'failed' },
      ],
    },
    waiting: {
      after: {
        backoff: { target: 'attempting', actions: 'startNextAttempt' },
      },
    },
    succeeded: { type: 'final' },
    failed: { type: 'final' },
    aborted: { type: 'final' },
  },
});

export type RetryMachine = typeof retryMachine;
