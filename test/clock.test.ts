import { describe, expect, test, vi } from 'vitest';
import { createManualClock, systemClock } from '../src/clock.js';

describe('createManualClock', () => {
  test('fires due timers in order of due time, then creation, and stops at the target', async () => {
    const clock = createManualClock(1_000);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('b@20'), 20);
    clock.setTimeout(() => fired.push('a@10'), 10);
    clock.setTimeout(() => fired.push('c@20'), 20);
    const late = clock.setTimeout(() => fired.push('never'), 5);
    clock.clearTimeout(late);
    await clock.advance(15);
    expect(fired).toEqual(['a@10']);
    expect(clock.now()).toBe(1_015);
    await clock.advance(5);
    expect(fired).toEqual(['a@10', 'b@20', 'c@20']);
    expect(clock.pendingTimers()).toBe(0);
  });

  test('lets promises settle between timers, so chained timers fire within one advance', async () => {
    const clock = createManualClock();
    const times: number[] = [];
    const sleep = (ms: number) => new Promise<void>((resolve) => clock.setTimeout(resolve, ms));
    void (async () => {
      for (let i = 0; i < 3; i++) {
        await sleep(100);
        times.push(clock.now());
      }
    })();
    await clock.advance(1_000);
    expect(times).toEqual([100, 200, 300]);
  });

  test('next() jumps to the next timer and says whether there was one', async () => {
    const clock = createManualClock();
    clock.setTimeout(() => {}, 250);
    expect(await clock.next()).toBe(true);
    expect(clock.now()).toBe(250);
    expect(await clock.next()).toBe(false);
  });
});

test('systemClock reads the globals at call time (so vitest fake timers drive it)', async () => {
  vi.useFakeTimers({ now: 5_000 });
  try {
    let fired = false;
    systemClock.setTimeout(() => {
      fired = true;
    }, 100);
    expect(systemClock.now()).toBe(5_000);
    await vi.advanceTimersByTimeAsync(100);
    expect(fired).toBe(true);
  } finally {
    vi.useRealTimers();
  }
});
