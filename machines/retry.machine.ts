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

/** A `retryAfterMs` carried by an error (an HTTP 429/503 with `Retry-After`, say). */
export function retryAfterOf(error: unknown): number | undefined {
  const value = (error as { retryAfterMs?: unknown } | null)?.retryAfterMs;
  return typeof value === 'number' && value >= 0 ? value : undefined;
}

/**
 * The retry loop as pure data: attempting → (evaluating → waiting on a computed delay → attempting)…
 * → succeeded | failed, and aborted from anywhere on ABORT. The attempt itself (`attempt`), the retry
 * decision (`isRetryable`, a pure guard), the grant of a retry from a shared budget (`acquireRetry`,
 * an invoked actor that rejects when refused), the delay (`planBackoff`) and the logging hook
 * (`notifyRetry`) are provided by `retry()`; the defaults here retry nothing and use the middle of the
 * jitter band, so the machine alone is deterministic. An error whose `retryAfterMs` exceeds
 * `maxDelayMs` stops the loop at once (`asksLongerThanMaxDelay`): the server asked for more than this
 * loop may wait.
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
    /** Resolves when the retry is granted, rejects when refused. Default: always granted. */
    acquireRetry: fromPromise<void>(async () => {}),
  },
  guards: {
    isOutOfRetries: ({ context }) => context.attempt >= context.maxRetries,
    asksLongerThanMaxDelay: ({ context }) => (retryAfterOf(context.lastError) ?? 0) > context.maxDelayMs,
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
        { guard: 'asksLongerThanMaxDelay', target: 'failed' },
        { guard: 'isRetryable', target: 'acquiring' },
        { target: 'failed' },
      ],
    },
    acquiring: {
      invoke: {
        id: 'acquireRetry',
        src: 'acquireRetry',
        onDone: { target: 'waiting', actions: ['planBackoff', 'notifyRetry'] },
        onError: { target: 'failed' },
      },
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
