/*
 * A retry budget, in the style of Finagle's `RetryBudget` and gRPC's retry throttling: retries granted
 * over the last `windowMs` may reach `ratio` of the calls made over it (10 % by default), or
 * `minRetriesPerWindow` (3 by default), whichever is larger. The floor is a maximum, not an addition:
 * it lets a rarely called backend still retry (one retry per 10 s window) and never lifts a busy
 * backend above `ratio`.
 *
 * Why: a retry loop alone multiplies the load on a backend that fails because it is overloaded
 * (3 retries at 50 % failures: 1 + ½ + ¼ + ⅛ ≈ 1.9× the calls). With a budget shared by every retry
 * against one backend, that backend receives at most about `1 + ratio` times the calls.
 *
 * `minRetriesInFlight` (default 0, off) is the older floor: that many retries running at once are
 * granted whatever the ratio says. It adds to the ratio, so it lifts a busy backend above it.
 *
 * The window is a ring of `BUCKETS` counters, each `windowMs / BUCKETS` wide, read on the injected
 * clock: an event counts for between `windowMs − windowMs / BUCKETS` and `windowMs` after it happened.
 * Memory is fixed; nothing is allocated per call.
 */

import { type Clock, systemClock } from '../clock.js';
import { checkNumber } from '../validate.js';
import { createSlidingCount } from './sliding-count.js';

export interface RetryBudgetOptions {
  /** Retries allowed per call over the window (0.1: 10 %). Default 0.1. */
  ratio?: number;
  /**
   * Retries allowed over the window however few calls were made: the window grants
   * `max(ratio × calls, minRetriesPerWindow)`. Default 3: a rarely called backend's call keeps its whole retry policy (3 retries per 10 s window).
   */
  minRetriesPerWindow?: number;
  /**
   * Retries allowed to run at once on top of `ratio` (an additive floor: it lifts a busy backend above
   * `ratio`). Default 0.
   */
  minRetriesInFlight?: number;
  /** Length of the sliding window, in ms. Default 10 000. */
  windowMs?: number;
  /** Time source of the window. Default {@link systemClock}. */
  clock?: Clock;
}

export interface RetryBudgetSnapshot {
  ratio: number;
  minRetriesPerWindow: number;
  minRetriesInFlight: number;
  windowMs: number;
  /** Calls counted in the current window. */
  calls: number;
  /** Retries granted in the current window. */
  retries: number;
  /** Retries granted and not yet released. */
  inFlight: number;
  /** Retries refused since creation. */
  budgetExhausted: number;
  /** Retries granted since creation. */
  totalRetries: number;
  /** Calls counted since creation. */
  totalCalls: number;
}

/** What `retry({ budget })` needs. One budget per backend, shared by every retry loop against it. */
export interface RetryBudget {
  /** Counts one call (a `retry()` call, not each of its attempts). */
  onCall(): void;
  /**
   * Grants one retry, or refuses it (and counts the refusal in `budgetExhausted`). A granted retry is
   * in flight until {@link releaseRetry}.
   */
  tryAcquireRetry(): boolean;
  /** Ends a granted retry (its attempt settled, or its loop was aborted). */
  releaseRetry(): void;
  snapshot(): RetryBudgetSnapshot;
}

/** Number of counters the window is made of. */
const BUCKETS = 10;

/** Creates a {@link RetryBudget}: retries ≤ max(`ratio` × calls, `minRetriesPerWindow`) over `windowMs`. */
export function createRetryBudget(options: RetryBudgetOptions = {}): RetryBudget {
  const ratio = checkNumber('ratio', options.ratio ?? 0.1, { min: 0 });
  const minRetriesPerWindow = checkNumber('minRetriesPerWindow', options.minRetriesPerWindow ?? 3, {
    min: 0,
    integer: true,
  });
  const minRetriesInFlight = checkNumber('minRetriesInFlight', options.minRetriesInFlight ?? 0, {
    min: 0,
    integer: true,
  });
  const windowMs = checkNumber('windowMs', options.windowMs ?? 10_000, { positive: true });
  const clock = options.clock ?? systemClock;
  const calls = createSlidingCount(windowMs, BUCKETS, clock);
  const retries = createSlidingCount(windowMs, BUCKETS, clock);
  let inFlight = 0;
  let budgetExhausted = 0;
  let totalRetries = 0;
  let totalCalls = 0;

  return {
    onCall() {
      calls.add();
      totalCalls++;
    },
    tryAcquireRetry() {
      const allowed = Math.max(ratio * calls.total(), minRetriesPerWindow);
      if (inFlight >= minRetriesInFlight && retries.total() + 1 > allowed) {
        budgetExhausted++;
        return false;
      }
      retries.add();
      totalRetries++;
      inFlight++;
      return true;
    },
    releaseRetry() {
      if (inFlight > 0) inFlight--;
    },
    snapshot() {
      return {
        ratio,
        minRetriesPerWindow,
        minRetriesInFlight,
        windowMs,
        calls: calls.total(),
        retries: retries.total(),
        inFlight,
        budgetExhausted,
        totalRetries,
        totalCalls,
      };
    },
  };
}

/**
 * A view of `budget` for a retry loop nested inside another one that already counted the call (the
 * bridge's tool-level retry around an HTTP backend's own): it grants and releases retries from the
 * same budget but counts no calls, so one logical call is counted once however many loops it crosses.
 */
export function nestedRetryBudget(budget: RetryBudget): RetryBudget {
  let view = nestedViews.get(budget);
  if (!view) {
    view = {
      onCall() {},
      tryAcquireRetry: () => budget.tryAcquireRetry(),
      releaseRetry: () => budget.releaseRetry(),
      snapshot: () => budget.snapshot(),
    };
    nestedViews.set(budget, view);
  }
  return view;
}

/** One nested view per budget: it holds no state of its own, so every loop can share it. */
const nestedViews = new WeakMap<RetryBudget, RetryBudget>();
