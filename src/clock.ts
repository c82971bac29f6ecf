/**
 * A source of time. Every factory in this package that waits or stamps times takes a `clock` and,
 * when given one, reads no other time source. XState actors receive it via `createActor(m, { clock })`.
 */
export interface Clock {
  /** Milliseconds since an arbitrary epoch (the system clock uses the Unix epoch). */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The real clock: reads `Date.now`, `setTimeout` and `clearTimeout` from the globals at call time. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** A clock that only moves when told to; for tests and simulations. */
export interface ManualClock extends Clock {
  /**
   * Moves time forward by `ms`, firing every timer that falls due on the way, in order of due time
   * (then of creation), and letting promises settle after each one and at the end.
   */
  advance(ms: number): Promise<void>;
  /** Moves to the next pending timer's due time and fires it; resolves false when none is pending. */
  next(): Promise<boolean>;
  /** How many timers are scheduled and not yet fired or cleared. */
  pendingTimers(): number;
}

interface ScheduledTimer {
  id: number;
  due: number;
  fn: () => void;
}

// Captured at load so that tests which later fake the globals cannot stall `advance`.
const realSetImmediate = (globalThis as { setImmediate?: (fn: () => void) => unknown }).setImmediate;
const realSetTimeout = globalThis.setTimeout;

/** Lets pending promise callbacks (and whatever they chain) run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => {
    if (realSetImmediate) realSetImmediate(resolve);
    else realSetTimeout(resolve, 0);
  });
}

/** Creates a {@link ManualClock} whose `now()` starts at `startMs`. */
export function createManualClock(startMs = 0): ManualClock {
  let now = startMs;
  let nextId = 1;
  const timers = new Map<number, ScheduledTimer>();

  const earliestDue = (limit: number): ScheduledTimer | undefined => {
    let found: ScheduledTimer | undefined;
    for (const timer of timers.values()) {
      if (timer.due > limit) continue;
      if (!found || timer.due < found.due || (timer.due === found.due && timer.id < found.id)) found = timer;
    }
    return found;
  };

  const fire = async (timer: ScheduledTimer): Promise<void> => {
    timers.delete(timer.id);
    if (timer.due > now) now = timer.due;
    timer.fn();
    await settle();
  };

  return {
    now: () => now,
    setTimeout(fn, ms) {
      const id = nextId++;
      const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
      timers.set(id, { id, due: now + delay, fn });
      return id;
    },
    clearTimeout(handle) {
      timers.delete(handle as number);
    },
    async advance(ms) {
      if (!(ms >= 0)) throw new RangeError(`advance(ms): ms must be >= 0, got ${ms}`);
      const target = now + ms;
      await settle();
      for (let timer = earliestDue(target); timer; timer = earliestDue(target)) await fire(timer);
      now = target;
      await settle();
    },
    async next() {
      await settle();
      const timer = earliestDue(Number.POSITIVE_INFINITY);
      if (!timer) return false;
      await fire(timer);
      return true;
    },
    pendingTimers: () => timers.size,
  };
}
