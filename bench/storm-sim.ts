/*
 * The pieces of the retry-storm simulation that know nothing of any strategy: a simulated backend on a
 * manual clock (failing at random, or beyond a capacity), fake global time for libraries that read
 * `Date.now` and the global timers, and counting helpers.
 */
import type { ManualClock } from '../src/clock.js';

/** The most values of sorted `times` in any half-open interval of `widthMs`. */
export function maxInWindow(times: readonly number[], widthMs: number): number {
  let max = 0;
  let start = 0;
  for (let end = 0; end < times.length; end++) {
    while ((times[end] as number) - (times[start] as number) >= widthMs) start++;
    max = Math.max(max, end - start + 1);
  }
  return max;
}

/** Counts of sorted `times` per `widthMs` slot, from 0 to `endMs`. */
export function perSlot(times: readonly number[], widthMs: number, endMs: number): number[] {
  const counts = new Array<number>(Math.ceil(endMs / widthMs)).fill(0);
  for (const t of times) {
    const slot = Math.floor(t / widthMs);
    if (slot < counts.length) counts[slot] = (counts[slot] as number) + 1;
  }
  return counts;
}

export interface SimulatedBackend {
  /** One call reaching the backend for logical call `id` (-1: not a logical call, e.g. a probe). */
  hit(id: number, owner: number): Promise<boolean>;
  calls: number;
  probes: number;
  reached: Set<number>;
  times: number[];
  afterTrip: number[];
  afterTripHalfOpen: number;
}

export interface SimulatedBackendOptions {
  clock: ManualClock;
  random: () => number;
  /** Share of the calls it serves that fail anyway, in [0, 1]. 1: a dead backend. */
  failureRate: number;
  latencyMs: number;
  /**
   * Calls per second it can serve (a token bucket holding 100 ms of capacity); the calls beyond it fail
   * (answered after `latencyMs`, as an overloaded server's 503). Default: unlimited.
   */
  capacityPerSecond?: number;
  trippedAt: (owner: number) => number | undefined;
  halfOpen: (owner: number) => boolean;
}

export function simulatedBackend(options: SimulatedBackendOptions): SimulatedBackend {
  const { clock, random, failureRate, latencyMs, capacityPerSecond, trippedAt, halfOpen } = options;
  const burst = capacityPerSecond === undefined ? 0 : capacityPerSecond / 10;
  let tokens = burst;
  let refilledAt = clock.now();
  const serve = (): boolean => {
    if (capacityPerSecond === undefined) return true;
    const now = clock.now();
    tokens = Math.min(burst, tokens + ((now - refilledAt) * capacityPerSecond) / 1000);
    refilledAt = now;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };
  const backend: SimulatedBackend = {
    calls: 0,
    probes: 0,
    reached: new Set(),
    times: [],
    afterTrip: [],
    afterTripHalfOpen: 0,
    hit(id, owner) {
      backend.calls++;
      backend.times.push(clock.now());
      if (id >= 0) backend.reached.add(id);
      else backend.probes++;
      if (trippedAt(owner) !== undefined) {
        backend.afterTrip.push(clock.now());
        if (halfOpen(owner)) backend.afterTripHalfOpen++;
      }
      const ok = serve() && random() >= failureRate;
      return new Promise((resolve) => clock.setTimeout(() => resolve(ok), latencyMs));
    },
  };
  return backend;
}

/** Points `Date.now` and the global timers at `clock` while `run` runs (cockatiel reads them). */
export async function withFakeTime<T>(clock: ManualClock, run: () => Promise<T>): Promise<T> {
  const saved = { now: Date.now, setTimeout: globalThis.setTimeout, clearTimeout: globalThis.clearTimeout };
  Date.now = () => clock.now();
  globalThis.setTimeout = ((fn: () => void, ms?: number) =>
    clock.setTimeout(fn, ms ?? 0)) as typeof setTimeout;
  globalThis.clearTimeout = ((handle: unknown) => clock.clearTimeout(handle)) as typeof clearTimeout;
  try {
    return await run();
  } finally {
    Date.now = saved.now;
    globalThis.setTimeout = saved.setTimeout;
    globalThis.clearTimeout = saved.clearTimeout;
  }
}
