/*
 * The breaker's trip rule as pure data: the interchangeable strategy that decides, in CLOSED, when
 * failures are enough to open (cockatiel's `ConsecutiveBreaker` / `SamplingBreaker`, resilience4j's
 * count- and time-based sliding windows).
 *
 * - `consecutive`: `failureThreshold` failures in a row trip it (the contract's default).
 * - `failureRate`: the share of failed calls over a sliding window trips it once the window holds at
 *   least `minimumCalls` calls and the share reaches `failureRateThreshold`. The window is either the
 *   last `size` calls (`count`) or the last `ms` milliseconds (`time`, kept as {@link TIME_BUCKETS}
 *   buckets stamped with the events' clock time `at`). Either way it is bounded data in the machine's
 *   context: at most `size` or {@link TIME_BUCKETS} entries.
 *
 * Everything here is a pure function of its arguments; the breaker machine calls it from its guards
 * and actions.
 */

/** The window of the failure-rate rule: the last `size` calls, or the last `ms` milliseconds. */
export type SlidingWindow = { kind: 'count'; size: number } | { kind: 'time'; ms: number };

/** Trip when `failureThreshold` (the machine's context) failures come in a row. */
export interface ConsecutiveRule {
  kind: 'consecutive';
}

/** Trip when the failure rate over the window reaches `failureRateThreshold`. */
export interface FailureRateRule {
  kind: 'failureRate';
  /** Share of failed calls that trips the breaker, in (0, 1]: 0.5 trips at 50 % or more. */
  failureRateThreshold: number;
  /** Calls the window must hold before the rate can trip it. */
  minimumCalls: number;
  window: SlidingWindow;
}

export type BreakerRule = ConsecutiveRule | FailureRateRule;

/**
 * Outcomes counted in one slot of the window. Count window: one call per bucket (`slot` unused, 0).
 * Time window: the calls of one `ms / TIME_BUCKETS` slice, `slot` = floor(at / slice).
 */
export interface WindowBucket {
  slot: number;
  calls: number;
  failures: number;
}

/** Buckets a time window is cut into. */
export const TIME_BUCKETS = 10;

const sliceOf = (window: { ms: number }): number => window.ms / TIME_BUCKETS;

/** The buckets of `buckets` still inside a time window at clock time `at`. */
function live(buckets: readonly WindowBucket[], window: { ms: number }, at: number): readonly WindowBucket[] {
  const oldest = Math.floor(at / sliceOf(window)) - TIME_BUCKETS + 1;
  const first = buckets.findIndex((bucket) => bucket.slot >= oldest);
  return first === 0 ? buckets : first === -1 ? [] : buckets.slice(first);
}

/** The window after one more call, `failed` or not, at clock time `at`. Never longer than its bound. */
export function recordOutcome(
  buckets: readonly WindowBucket[],
  window: SlidingWindow,
  failed: boolean,
  at: number,
): WindowBucket[] {
  const failures = failed ? 1 : 0;
  if (window.kind === 'count') {
    const kept = buckets.length >= window.size ? buckets.slice(buckets.length - window.size + 1) : buckets;
    return [...kept, { slot: 0, calls: 1, failures }];
  }
  const slot = Math.floor(at / sliceOf(window));
  const kept = live(buckets, window, at);
  const last = kept.at(-1);
  if (last && last.slot === slot) {
    return [...kept.slice(0, -1), { slot, calls: last.calls + 1, failures: last.failures + failures }];
  }
  return [...kept, { slot, calls: 1, failures }];
}

/** Calls and failures in the window at clock time `at`. */
export function windowTotals(
  buckets: readonly WindowBucket[],
  window: SlidingWindow,
  at: number,
): { calls: number; failures: number } {
  let calls = 0;
  let failures = 0;
  for (const bucket of window.kind === 'time' ? live(buckets, window, at) : buckets) {
    calls += bucket.calls;
    failures += bucket.failures;
  }
  return { calls, failures };
}

/** Whether the failure-rate rule trips once this window (the latest outcome included) is counted. */
export function failureRateTrips(
  rule: FailureRateRule,
  buckets: readonly WindowBucket[],
  at: number,
): boolean {
  const { calls, failures } = windowTotals(buckets, rule.window, at);
  return calls >= rule.minimumCalls && calls > 0 && failures / calls >= rule.failureRateThreshold;
}
