/*
 * How the fast path and the machine share the work.
 *
 * `retryMachine` runs the retry loop: deciding, waiting on the clock, attempting again, giving up,
 * aborting. An operation whose first attempt succeeds never needs any of that, so `retry()` runs the
 * first attempt itself and starts the machine only when that attempt fails. The machine's own first
 * `attempting` state then adopts the attempt already made (its `attempt` actor, for attempt 0,
 * returns the rejected promise instead of calling `fn` again), so the machine goes through exactly the
 * transitions it would have taken had it run the attempt itself.
 */
import { assign, createActor, fromPromise, type InspectionEvent, type Observer } from 'xstate';
import { backoffDelay } from '../../machines/backoff.js';
import { type RetryAttemptInput, retryAfterOf, retryMachine } from '../../machines/retry.machine.js';
import { type Clock, systemClock } from '../clock.js';
import { checkNumber } from '../validate.js';
import { unwatchAbort, watchAbort } from './abort-watch.js';
import { isThenable, neverAborted } from './call.js';
import { DEFAULT_RETRY_POLICIES } from './policies.js';
import type { RetryBudget } from './retry-budget.js';
import type { RetryMetrics } from './retry-metrics.js';

export interface RetryInfo {
  operation: string;
  /** Index of the attempt about to be made after the delay (1 for the first retry). */
  attempt: number;
  /** Attempts the loop may make in all (`1 + maxRetries`). */
  maxAttempts: number;
  delayMs: number;
  /** The error of the attempt that just failed. */
  error: unknown;
}

export interface RetryOptions {
  /** Operation name: picks its entry in `DEFAULT_RETRY_POLICIES` and names its metrics. */
  operation?: string;
  /** Retries after the first attempt. Default 3, or the operation's policy. */
  maxRetries?: number;
  /** Delay before the first retry, before jitter. Default 100 ms, or the operation's policy. */
  baseDelayMs?: number;
  /** Upper bound of every delay. Default 30 000 ms. */
  maxDelayMs?: number;
  /** Relative jitter of each delay, in [0, 1]. Default 0.2 (±20 %). */
  jitter?: number;
  /**
   * Return false to stop retrying at once. `BrokenCircuitError` and `ThrottledError` are never
   * retried, whatever this says.
   */
  shouldRetry?: (error: unknown, attempt: number) => boolean;
  /** Aborting rejects at once with `signal.reason`, during an attempt or a wait. */
  signal?: AbortSignal;
  /**
   * A second signal that ends the loop as `signal` does, rejecting with its own reason; attempts
   * still receive `signal`. For an owner's stop (a backend's) beside a caller's signal, without
   * combining the two into a new signal per call.
   */
  stopSignal?: AbortSignal;
  clock?: Clock;
  /** Source of jitter, in [0, 1). Default `Math.random`. */
  random?: () => number;
  /** Registry to record into (operations without a name record as `'default'`). */
  metrics?: RetryMetrics;
  /** Called before each wait: the logging point. */
  onRetry?: (info: RetryInfo) => void;
  /**
   * Retry budget shared by every retry against one backend: each `retry()` call counts one call, and
   * each retry needs a grant (held until the retried attempt settles). Refused: stops, rejects with the
   * last error.
   */
  budget?: RetryBudget;
  /** Receives XState inspection events of the retry actor (started only after a failed attempt). */
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
}

function validate(options: RetryOptions): void {
  if (options.maxRetries !== undefined)
    checkNumber('maxRetries', options.maxRetries, { min: 0, integer: true });
  if (options.baseDelayMs !== undefined) checkNumber('baseDelayMs', options.baseDelayMs, { min: 0 });
  if (options.maxDelayMs !== undefined) checkNumber('maxDelayMs', options.maxDelayMs, { min: 0 });
  if (options.jitter !== undefined) checkNumber('jitter', options.jitter, { min: 0, max: 1 });
}

/** A local fast fail, never retried: an open circuit, or a request the adaptive throttle rejected. */
function isBrokenCircuit(error: unknown): boolean {
  return error instanceof Error && (error.name === 'BrokenCircuitError' || error.name === 'ThrottledError');
}

/** Thrown by the `acquireRetry` actor when the retry budget refuses a retry. */
class RetryRefusedError extends Error {
  override readonly name = 'RetryRefusedError';
}

/**
 * Calls `fn(attempt, signal)` until it succeeds, at most `1 + maxRetries` times, waiting
 * {@link backoffDelay} between attempts. Rejects with the last error, or with `signal.reason` when aborted.
 */
export function retry<T>(
  fn: (attempt: number, signal: AbortSignal) => T | PromiseLike<T>,
  options: RetryOptions = {},
): Promise<T> {
  validate(options);
  const { signal, stopSignal } = options;
  const stopped = abortedOf(signal, stopSignal);
  if (stopped) return Promise.reject(stopped.reason);
  options.budget?.onCall();
  let first: T | PromiseLike<T>;
  try {
    first = fn(0, signal ?? neverAborted);
  } catch (error) {
    // Aborted during the attempt: the abort wins over whatever the attempt threw.
    const during = abortedOf(signal, stopSignal);
    if (during) return abortedFirst(options, during);
    return runMachine(fn, options, error);
  }
  const during = abortedOf(signal, stopSignal);
  if (during) {
    // The attempt's own outcome, when it comes, has nowhere to go.
    if (isThenable(first)) Promise.resolve(first).then(undefined, ignore);
    return abortedFirst(options, during);
  }
  if (!isThenable(first)) {
    recordFirstSuccess(options);
    return Promise.resolve(first);
  }
  if (!signal && !stopSignal) {
    return Promise.resolve(first).then(
      (value) => {
        recordFirstSuccess(options);
        return value;
      },
      (error: unknown) => runMachine(fn, options, error),
    );
  }
  // Functions of their own: with the two-signal code inline, a retry under one signal measured
  // ~0.65 µs instead of ~0.17 µs (Node 20).
  if (!stopSignal) return underSignal(fn, options, first, signal as AbortSignal);
  return underSignals(fn, options, first, signal, stopSignal);
}

/** The first attempt, pending under one signal, watched (not listened to: it is often shared and long-lived). */
function underSignal<T>(
  fn: (attempt: number, signal: AbortSignal) => T | PromiseLike<T>,
  options: RetryOptions,
  first: PromiseLike<T>,
  signal: AbortSignal,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const watch = watchAbort(signal, () => {
      abortedFirst(options, signal).catch(reject);
    });
    Promise.resolve(first).then(
      (value) => {
        if (signal.aborted) return;
        unwatchAbort(signal, watch);
        recordFirstSuccess(options);
        resolve(value);
      },
      (error: unknown) => {
        if (signal.aborted) return;
        unwatchAbort(signal, watch);
        runMachine(fn, options, error).then(resolve, reject);
      },
    );
  });
}

/** The first attempt, pending under the caller's signal (if any) and the stop signal. */
function underSignals<T>(
  fn: (attempt: number, signal: AbortSignal) => T | PromiseLike<T>,
  options: RetryOptions,
  first: PromiseLike<T>,
  signal: AbortSignal | undefined,
  stopSignal: AbortSignal,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const watch =
      signal &&
      watchAbort(signal, () => {
        unwatchAbort(stopSignal, stopWatch);
        abortedFirst(options, signal).catch(reject);
      });
    const stopWatch = watchAbort(stopSignal, () => {
      if (signal && watch) unwatchAbort(signal, watch);
      abortedFirst(options, stopSignal).catch(reject);
    });
    Promise.resolve(first).then(
      (value) => {
        if (signal?.aborted || stopSignal.aborted) return;
        if (signal && watch) unwatchAbort(signal, watch);
        unwatchAbort(stopSignal, stopWatch);
        recordFirstSuccess(options);
        resolve(value);
      },
      (error: unknown) => {
        if (signal?.aborted || stopSignal.aborted) return;
        if (signal && watch) unwatchAbort(signal, watch);
        unwatchAbort(stopSignal, stopWatch);
        runMachine(fn, options, error).then(resolve, reject);
      },
    );
  });
}

/** The first of the signals that has aborted, if any. */
function abortedOf(
  signal: AbortSignal | undefined,
  stopSignal: AbortSignal | undefined,
): AbortSignal | undefined {
  if (signal?.aborted) return signal;
  return stopSignal?.aborted ? stopSignal : undefined;
}

function ignore(): void {}

/** The first attempt was aborted: records it and rejects with the signal's reason. */
function abortedFirst<T>(options: RetryOptions, signal: AbortSignal): Promise<T> {
  options.metrics?.record({
    operation: options.operation ?? 'default',
    attempts: 1,
    succeeded: false,
    totalDelayMs: 0,
  });
  return Promise.reject(signal.reason);
}

function recordFirstSuccess(options: RetryOptions): void {
  options.metrics?.record({
    operation: options.operation ?? 'default',
    attempts: 1,
    succeeded: true,
    totalDelayMs: 0,
  });
}

function runMachine<T>(
  fn: (attempt: number, signal: AbortSignal) => T | PromiseLike<T>,
  options: RetryOptions,
  firstError: unknown,
): Promise<T> {
  const operation = options.operation ?? 'default';
  const policy = DEFAULT_RETRY_POLICIES[operation];
  const random = options.random ?? Math.random;
  const { shouldRetry, onRetry, signal, stopSignal, metrics, budget } = options;
  const attemptSignal = signal ?? neverAborted;
  /** Whether this loop holds a retry granted by `budget` (from the decision until its attempt settles). */
  let granted = false;
  const release = () => {
    if (!granted) return;
    granted = false;
    budget?.releaseRetry();
  };

  const machine = retryMachine.provide({
    actors: {
      attempt: fromPromise<unknown, RetryAttemptInput>(async ({ input }) => {
        if (input.attempt === 0) throw firstError;
        if (!budget) return fn(input.attempt, attemptSignal);
        try {
          return await fn(input.attempt, attemptSignal);
        } finally {
          release();
        }
      }),
      acquireRetry: fromPromise<void>(async () => {
        if (!budget) return;
        granted = budget.tryAcquireRetry();
        if (!granted) throw new RetryRefusedError('retry budget exhausted');
      }),
    },
    guards: {
      isRetryable: ({ context }) =>
        !isBrokenCircuit(context.lastError) &&
        (shouldRetry ? shouldRetry(context.lastError, context.attempt) : true),
    },
    actions: {
      planBackoff: assign({
        nextDelayMs: ({ context }) => {
          const delay = backoffDelay(context.attempt, context, random);
          const retryAfter = retryAfterOf(context.lastError);
          return retryAfter === undefined ? delay : Math.max(delay, Math.min(context.maxDelayMs, retryAfter));
        },
      }),
      notifyRetry: ({ context }) =>
        onRetry?.({
          operation,
          attempt: context.attempt + 1,
          maxAttempts: context.maxRetries + 1,
          delayMs: context.nextDelayMs,
          error: context.lastError,
        }),
    },
  });
  const actor = createActor(machine, {
    input: {
      operation,
      maxRetries: options.maxRetries ?? policy?.maxRetries ?? 3,
      baseDelayMs: options.baseDelayMs ?? policy?.baseDelayMs ?? 100,
      maxDelayMs: options.maxDelayMs ?? 30_000,
      jitter: options.jitter ?? 0.2,
    },
    clock: options.clock ?? systemClock,
    ...(options.inspect ? { inspect: options.inspect } : {}),
  });
  // Aborted while the failed attempt settled: start nothing.
  const aborted = abortedOf(signal, stopSignal);
  if (aborted) {
    metrics?.record({ operation, attempts: 1, succeeded: false, totalDelayMs: 0 });
    return Promise.reject(aborted.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => actor.send({ type: 'ABORT', reason: abortedOf(signal, stopSignal)?.reason });
    const unlisten = () => {
      signal?.removeEventListener('abort', onAbort);
      stopSignal?.removeEventListener('abort', onAbort);
    };
    const finish = () => {
      unlisten();
      release();
      const { context, value } = actor.getSnapshot();
      metrics?.record({
        operation,
        attempts: context.attempt + 1,
        succeeded: value === 'succeeded',
        totalDelayMs: context.totalDelayMs,
      });
      if (value === 'succeeded') resolve(context.output as T);
      else if (value === 'aborted') reject(context.abortReason);
      else reject(context.lastError);
    };
    actor.subscribe({
      next: (snapshot) => {
        if (snapshot.status === 'done') finish();
      },
      error: (error) => {
        unlisten();
        release();
        reject(error);
      },
    });
    signal?.addEventListener('abort', onAbort, { once: true });
    stopSignal?.addEventListener('abort', onAbort, { once: true });
    actor.start();
  });
}
