/*
 * A count over the last `windowMs` on the injected clock, kept in `buckets` slices: adding is O(1),
 * slices that fall out of the window are cleared as time moves on. Used by the retry budget (calls,
 * retries) and the adaptive throttle (requests, accepts).
 */
import type { Clock } from '../clock.js';

export interface SlidingCount {
  /** Adds `n` (default 1) to the slice of `now` (default: the clock's). */
  add(n?: number, now?: number): void;
  /** The sum over the window, as of `now` (default: the clock's; a caller reading two counts reads the clock once). */
  total(now?: number): number;
}

/** Creates a {@link SlidingCount} over `windowMs`, in `buckets` slices of `windowMs / buckets`. */
export function createSlidingCount(windowMs: number, buckets: number, clock: Clock): SlidingCount {
  const bucketMs = windowMs / buckets;
  const slices = new Float64Array(buckets);
  /** Index (time / bucketMs, floored) of the newest slice written. */
  let head = Math.floor(clock.now() / bucketMs);
  let sum = 0;
  const slotOf = (index: number) => ((index % buckets) + buckets) % buckets;
  /** Moves the window to now: clears the slices that fell out of it. Returns the current slot. */
  const roll = (now: number): number => {
    const index = Math.floor(now / bucketMs);
    if (index > head) {
      const stale = Math.min(buckets, index - head);
      for (let i = 1; i <= stale; i++) {
        const slot = slotOf(head + i);
        sum -= slices[slot] as number;
        slices[slot] = 0;
      }
      head = index;
    }
    return slotOf(head);
  };
  return {
    add(n = 1, now = clock.now()) {
      const slot = roll(now);
      slices[slot] = (slices[slot] as number) + n;
      sum += n;
    },
    total(now = clock.now()) {
      roll(now);
      return sum;
    },
  };
}
