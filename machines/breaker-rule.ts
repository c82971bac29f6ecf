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
 * Outcomes counted in one slot of the window. Count window: a run of consecutive calls with the same
 * outcome (`failures` is 0 or `calls`; `slot` unused, 0), oldest first, `size` calls in all at most.
 * Time window: the calls of one `ms / TIME_BUCKETS` slice, `slot` = {@link windowSlot}.
 */
export interface WindowBucket {
  slot: number;
  calls: number;
  failures: number;
}

/** Buckets a time window is cut into. */
export const TIME_BUCKETS = 10;

/** The slot of clock time `at` in `window`: its time bucket (a count window has one slot, 0). */
export function windowSlot(window: SlidingWindow, at: number): number {
  return window.kind === 'time' ? Math.floor(at / (window.ms / TIME_BUCKETS)) : 0;
}

/** The buckets of `buckets` still inside a time window at clock time `at`. */
function live(
  buckets: readonly WindowBucket[],
  window: Extract<SlidingWindow, { kind: 'time' }>,
  at: number,
): readonly WindowBucket[] {
  const oldest = windowSlot(window, at) - TIME_BUCKETS + 1;
  const first = buckets.findIndex((bucket) => bucket.slot >= oldest);
  return first === 0 ? buckets : first === -1 ? [] : buckets.slice(first);
}

/** A count window after `count` more calls with one outcome: the run joins the last one if alike. */
function countRun(
  buckets: readonly WindowBucket[],
  size: number,
  failed: boolean,
  count: number,
): WindowBucket[] {
  const calls = Math.min(count, size);
  const last = buckets.at(-1);
  const joined =
    last && last.failures > 0 === failed
      ? [
          ...buckets.slice(0, -1),
          { slot: 0, calls: last.calls + calls, failures: failed ? last.calls + calls : 0 },
        ]
      : [...buckets, { slot: 0, calls, failures: failed ? calls : 0 }];
  let excess = -size;
  for (const bucket of joined) excess += bucket.calls;
  // The oldest calls leave first; a run only partly out keeps its newer calls.
  let first = 0;
  while (excess > 0) {
    const oldest = joined[first] as WindowBucket;
    if (oldest.calls > excess) {
      const kept = oldest.calls - excess;
      joined[first] = { slot: 0, calls: kept, failures: oldest.failures > 0 ? kept : 0 };
      break;
    }
    excess -= oldest.calls;
    first++;
  }
  return first === 0 ? joined : joined.slice(first);
}

/**
 * The window after `count` (default 1) more calls, all `failed` or all not, at clock time `at` (one
 * time slot). Never longer than its bound, whatever `count`: the same window as `count` calls recorded
 * one by one.
 */
export function recordOutcome(
  buckets: readonly WindowBucket[],
  window: SlidingWindow,
  failed: boolean,
  at: number,
  count = 1,
): WindowBucket[] {
  if (window.kind === 'count') return countRun(buckets, window.size, failed, count);
  const failures = failed ? count : 0;
  const slot = windowSlot(window, at);
  const kept = live(buckets, window, at);
  const last = kept.at(-1);
  if (last && last.slot === slot) {
    return [...kept.slice(0, -1), { slot, calls: last.calls + count, failures: last.failures + failures }];
  }
  return [...kept, { slot, calls: count, failures }];
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
