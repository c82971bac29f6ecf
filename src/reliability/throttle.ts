/*
 * Client-side adaptive throttling (Google SRE book, "Handling Overload"): each client keeps, over the
 * last `windowMs`, how many requests it attempted and how many the backend accepted, and rejects a new
 * request locally with probability
 *
 *     max(0, (requests − k · accepts) / (requests + 1))
 *
 * While the backend accepts at least 1/k of the requests, nothing is rejected. Past that, the requests
 * that reach the backend settle at about `k × accepts`: an overloaded backend's load falls towards
 * what it can serve, first attempts included (a retry budget only bounds retries). k = 2 (the book's
 * choice) lets up to twice the accepted load through; a smaller k sheds more aggressively (1.1 keeps
 * the load within 10 % of what the backend accepts) at the cost of rejecting some requests the
 * backend could have served when demand is bursty.
 *
 * The rejections are spread evenly rather than drawn one by one: each request adds its probability
 * to a running sum and is rejected when the sum passes a whole number, so after any n requests the
 * rejections equal the sum of their probabilities within one. Independent draws give the same mean
 * but wander by about √n, and the load that reaches the backend wanders with them.
 *
 * Requests rejected locally count as requests: a client that keeps calling a dead backend rejects
 * nearly everything (the probability tends to 1) yet still lets a few through, which is how it sees
 * the backend come back. A request that goes to the backend counts when its outcome is recorded, in
 * the same instant as its accept: requests still in flight are in neither count. (Counting them when
 * sent, as accepts come back one latency later, made every cold start look like overload: the first
 * requests saw `requests > 0, accepts = 0`, the locally rejected ones then kept the ratio down, and
 * since the ratio recovers only by a factor k per window, k = 1.1 stayed far below what the backend
 * could serve.) The window is a ring of `BUCKETS` counters on the injected clock, as in the retry
 * budget: fixed memory, nothing allocated per call.
 */

import { type Clock, systemClock } from '../clock.js';
import { checkNumber } from '../validate.js';
import { createSlidingCount } from './sliding-count.js';

export interface AdaptiveThrottleOptions {
  /** Multiplier of accepts in the formula. Default 2. Must be > 0. */
  k?: number;
  /** Length of the sliding window, in ms. Default 120 000 (two minutes). */
  windowMs?: number;
  /** Time source of the window. Default {@link systemClock}. */
  clock?: Clock;
  /**
   * Where the spread of rejections starts, one draw in [0, 1) (so that clients sharing a backend do
   * not reject in step). Default `Math.random`.
   */
  random?: () => number;
  /**
   * Requests the window must hold before anything is rejected locally (one failed call of a quiet
   * backend must not halve its traffic). Default 0.
   */
  minimumRequests?: number;
}

export interface AdaptiveThrottleSnapshot {
  /** Requests in the window: rejected locally, or admitted and answered (not those in flight). */
  requests: number;
  /** Requests the backend accepted in the window. */
  accepts: number;
  /** Probability that the next `admit()` returns false. */
  rejectProbability: number;
  /** Whether the throttle currently rejects anything (`rejectProbability > 0`). */
  throttling: boolean;
  /** Requests rejected locally since creation. */
  totalRejected: number;
}

/** One per backend, shared by every caller of that backend. */
export interface AdaptiveThrottle {
  /**
   * Decides whether a request may go to the backend (false: reject it locally; it counts as a
   * request at once). An admitted request counts when {@link record} reports its outcome.
   */
  admit(): boolean;
  /**
   * Reports the outcome of an admitted request: `true` when the backend accepted it (served it, even
   * with an application error), `false` when it refused it for overload or could not be reached. An
   * admitted request whose outcome is never recorded (cancelled, refused by a breaker) is not counted.
   */
  record(accepted: boolean): void;
  snapshot(): AdaptiveThrottleSnapshot;
}

/** Number of counters the window is made of. */
const BUCKETS = 20;

/** Creates an {@link AdaptiveThrottle}. */
export function createAdaptiveThrottle(options: AdaptiveThrottleOptions = {}): AdaptiveThrottle {
  const k = checkNumber('k', options.k ?? 2, { positive: true });
  const windowMs = checkNumber('windowMs', options.windowMs ?? 120_000, { positive: true });
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const minimumRequests = checkNumber('minimumRequests', options.minimumRequests ?? 0, { min: 0 });
  const requests = createSlidingCount(windowMs, BUCKETS, clock);
  const accepts = createSlidingCount(windowMs, BUCKETS, clock);
  let totalRejected = 0;
  /** Sum of the probabilities seen by `admit()`, less one per rejection: always in [0, 1) after it. */
  let carry = random();

  /** The rejection probability with `sent` requests in the window as of `now`: 0 below the minimum. */
  const rejection = (sent: number, now: number) =>
    sent < minimumRequests ? 0 : Math.max(0, (sent - k * accepts.total(now)) / (sent + 1));

  return {
    admit() {
      // One clock read for the two counts: this runs before every attempt.
      const now = clock.now();
      const p = rejection(requests.total(now), now);
      if (p === 0) return true;
      carry += p;
      if (carry < 1) return true;
      carry -= 1;
      requests.add(1, now);
      totalRejected++;
      return false;
    },
    record(accepted) {
      const now = clock.now();
      requests.add(1, now);
      if (accepted) accepts.add(1, now);
    },
    snapshot() {
      const now = clock.now();
      const sent = requests.total(now);
      const rejectProbability = rejection(sent, now);
      return {
        requests: sent,
        accepts: accepts.total(now),
        rejectProbability,
        throttling: rejectProbability > 0,
        totalRejected,
      };
    },
  };
}

/** A request was rejected locally by an {@link AdaptiveThrottle}, without reaching the backend. */
export class ThrottledError extends Error {
  override readonly name = 'ThrottledError';
  constructor(
    /** Name of the backend the request was meant for. */
    readonly backend: string,
    /** The rejection probability when the request was refused. */
    readonly rejectProbability: number,
    /** A hint for the caller: when to try again, in ms (the throttle admits again as accepts return). */
    readonly retryAfterMs: number,
  ) {
    super(
      `Backend "${backend}" is overloaded: request rejected locally (reject probability ${rejectProbability.toFixed(2)})`,
    );
  }
}

export interface ThrottledCallOptions {
  /** Name for {@link ThrottledError}. Default `'default'`. */
  name?: string;
  /**
   * Whether an error of `fn` means the backend accepted the request (it served it: a 4xx, a tool
   * error). Default: no error counts as accepted (every failure is treated as overload).
   */
  isAccepted?: (error: unknown) => boolean;
  /** `retryAfterMs` of the {@link ThrottledError}. Default 1 000. */
  retryAfterMs?: number;
}

/**
 * Runs `fn` through `throttle`: rejects with {@link ThrottledError} without calling it when not
 * admitted; otherwise records whether the backend accepted it (a success does) and settles as `fn` did.
 */
export async function throttled<T>(
  throttle: AdaptiveThrottle,
  fn: () => T | PromiseLike<T>,
  options: ThrottledCallOptions = {},
): Promise<T> {
  if (!throttle.admit()) {
    throw new ThrottledError(
      options.name ?? 'default',
      throttle.snapshot().rejectProbability,
      options.retryAfterMs ?? 1_000,
    );
  }
  try {
    const value = await fn();
    throttle.record(true);
    return value;
  } catch (error) {
    throttle.record(options.isAccepted?.(error) ?? false);
    throw error;
  }
}
