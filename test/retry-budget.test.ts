import { describe, expect, test } from 'vitest';
import { runStorm } from '../bench/storm.js';
import { createManualClock } from '../src/clock.js';
import { retry } from '../src/reliability/retry.js';
import { createRetryBudget, nestedRetryBudget } from '../src/reliability/retry-budget.js';

describe('createRetryBudget', () => {
  test('defaults: 10 % of the calls over the window, however many retries are in flight', () => {
    const budget = createRetryBudget({ clock: createManualClock() });
    for (let i = 0; i < 1_000; i++) budget.onCall();
    let granted = 0;
    while (budget.tryAcquireRetry()) granted++;
    expect(granted).toBe(100);
    expect(budget.snapshot()).toMatchObject({
      ratio: 0.1,
      minRetriesPerWindow: 3,
      minRetriesInFlight: 0,
      windowMs: 10_000,
      inFlight: 100,
      budgetExhausted: 1,
    });
  });

  test('a rarely called backend still gets three retries per window', async () => {
    const clock = createManualClock();
    const budget = createRetryBudget({ clock });
    budget.onCall();
    for (let i = 0; i < 3; i++) {
      expect(budget.tryAcquireRetry()).toBe(true);
      budget.releaseRetry();
    }
    budget.onCall();
    expect(budget.tryAcquireRetry()).toBe(false); // 2 calls: max(0.2, 3) = 3 retries, spent
    await clock.advance(10_000);
    budget.onCall();
    expect(budget.tryAcquireRetry()).toBe(true);
  });

  test('the per-window floor is a maximum, not an addition: a busy backend stays at the ratio', () => {
    const budget = createRetryBudget({ clock: createManualClock(), minRetriesPerWindow: 5 });
    for (let i = 0; i < 200; i++) budget.onCall();
    let granted = 0;
    while (budget.tryAcquireRetry()) granted++;
    expect(granted).toBe(20); // max(0.1 × 200, 5), not 20 + 5
    const quiet = createRetryBudget({ clock: createManualClock(), minRetriesPerWindow: 5 });
    for (let i = 0; i < 10; i++) quiet.onCall();
    granted = 0;
    while (quiet.tryAcquireRetry()) granted++;
    expect(granted).toBe(5); // max(1, 5)
  });

  test('grants retries up to ratio × calls once the floor is in flight', () => {
    const clock = createManualClock();
    const budget = createRetryBudget({ clock, ratio: 0.2, minRetriesInFlight: 0 });
    for (let i = 0; i < 50; i++) budget.onCall();
    const granted = Array.from({ length: 20 }, () => budget.tryAcquireRetry()).filter(Boolean).length;
    expect(granted).toBe(10);
    expect(budget.snapshot()).toMatchObject({ calls: 50, retries: 10, inFlight: 10, budgetExhausted: 10 });
  });

  test('the floor grants minRetriesInFlight retries at once with no calls, and frees a slot on release', () => {
    const budget = createRetryBudget({
      clock: createManualClock(),
      minRetriesInFlight: 3,
      minRetriesPerWindow: 0,
    });
    expect([1, 2, 3, 4].map(() => budget.tryAcquireRetry())).toEqual([true, true, true, false]);
    budget.releaseRetry();
    expect(budget.tryAcquireRetry()).toBe(true);
    expect(budget.tryAcquireRetry()).toBe(false);
    expect(budget.snapshot()).toMatchObject({ inFlight: 3, totalRetries: 4, budgetExhausted: 2 });
    for (let i = 0; i < 5; i++) budget.releaseRetry();
    expect(budget.snapshot().inFlight).toBe(0);
  });

  test('the in-flight floor and the ratio add up: 3 in flight, then 20 % of calls', () => {
    const budget = createRetryBudget({ clock: createManualClock(), ratio: 0.2, minRetriesInFlight: 3 });
    for (let i = 0; i < 100; i++) budget.onCall();
    let granted = 0;
    while (budget.tryAcquireRetry()) granted++;
    // The first 3 come from the floor and count as retries of the window too.
    expect(granted).toBe(20);
  });

  test('calls and retries leave the window after windowMs (buckets of windowMs / 10)', async () => {
    const clock = createManualClock();
    const budget = createRetryBudget({
      clock,
      ratio: 0.5,
      minRetriesInFlight: 0,
      minRetriesPerWindow: 1,
      windowMs: 1_000,
    });
    for (let i = 0; i < 10; i++) budget.onCall(); // t = 0
    await clock.advance(500);
    for (let i = 0; i < 10; i++) budget.onCall(); // t = 500
    expect(budget.snapshot().calls).toBe(20);
    for (let i = 0; i < 10; i++) expect(budget.tryAcquireRetry()).toBe(true);
    expect(budget.tryAcquireRetry()).toBe(false);
    await clock.advance(499); // t = 999: still in the window
    expect(budget.snapshot()).toMatchObject({ calls: 20, retries: 10 });
    await clock.advance(1); // t = 1000: the calls of t = 0 leave
    expect(budget.snapshot()).toMatchObject({ calls: 10, retries: 10 });
    expect(budget.tryAcquireRetry()).toBe(false);
    await clock.advance(500); // t = 1500: everything left
    expect(budget.snapshot()).toMatchObject({ calls: 0, retries: 0, totalCalls: 20, totalRetries: 10 });
    budget.onCall();
    budget.onCall();
    expect(budget.tryAcquireRetry()).toBe(true);
    expect(budget.tryAcquireRetry()).toBe(false);
  });

  test('a long silence clears the whole window', async () => {
    const clock = createManualClock();
    const budget = createRetryBudget({ clock, minRetriesPerWindow: 0 });
    for (let i = 0; i < 100; i++) budget.onCall();
    await clock.advance(1_000_000);
    expect(budget.snapshot().calls).toBe(0);
    expect(budget.tryAcquireRetry()).toBe(false);
  });

  test('rejects invalid options', () => {
    expect(() => createRetryBudget({ ratio: -1 })).toThrow(RangeError);
    expect(() => createRetryBudget({ minRetriesInFlight: 1.5 })).toThrow(RangeError);
    expect(() => createRetryBudget({ windowMs: 0 })).toThrow(RangeError);
    expect(() => createRetryBudget({ minRetriesPerWindow: -1 })).toThrow(RangeError);
  });

  test('nestedRetryBudget shares grants but counts no calls', () => {
    const budget = createRetryBudget({
      clock: createManualClock(),
      minRetriesInFlight: 0,
      minRetriesPerWindow: 1,
    });
    const nested = nestedRetryBudget(budget);
    nested.onCall();
    expect(budget.snapshot().calls).toBe(0);
    for (let i = 0; i < 5; i++) budget.onCall();
    expect(nested.tryAcquireRetry()).toBe(true);
    expect(budget.tryAcquireRetry()).toBe(false);
    nested.releaseRetry();
    expect(budget.snapshot().inFlight).toBe(0);
  });
});

describe('retry({ budget })', () => {
  const failing = (counter: { attempts: number }) => async () => {
    counter.attempts++;
    throw new Error(`attempt ${counter.attempts}`);
  };

  test('counts one call per retry(); a grant is released before the next decision, so a floor of 1 suffices', async () => {
    const clock = createManualClock();
    const budget = createRetryBudget({ clock, minRetriesInFlight: 1, ratio: 0 });
    const counter = { attempts: 0 };
    const outcome = retry(failing(counter), { clock, budget, maxRetries: 5, random: () => 0.5 });
    const settled = outcome.catch((error: unknown) => error);
    while (await clock.next()) {}
    const error = await settled;
    // ratio 0: every retry comes from the floor, and the previous one is back before the next is asked.
    expect(counter.attempts).toBe(6);
    expect((error as Error).message).toBe('attempt 6');
    expect(budget.snapshot()).toMatchObject({ totalCalls: 1, inFlight: 0, totalRetries: 5 });
  });

  test('a refused retry rejects with the last error and counts budgetExhausted', async () => {
    const clock = createManualClock();
    const budget = createRetryBudget({ clock, minRetriesPerWindow: 0, ratio: 0 });
    const counter = { attempts: 0 };
    const settled = retry(failing(counter), { clock, budget, maxRetries: 3 }).catch(
      (error: unknown) => error,
    );
    while (await clock.next()) {}
    expect(((await settled) as Error).message).toBe('attempt 1');
    expect(counter.attempts).toBe(1);
    expect(budget.snapshot()).toMatchObject({ totalCalls: 1, budgetExhausted: 1, inFlight: 0 });
  });

  test('concurrent loops share the floor: the 4th concurrent retry is refused', async () => {
    const clock = createManualClock();
    const budget = createRetryBudget({ clock, ratio: 0, minRetriesInFlight: 3, minRetriesPerWindow: 0 });
    const counters = Array.from({ length: 4 }, () => ({ attempts: 0 }));
    const outcomes = counters.map((c) =>
      retry(failing(c), { clock, budget, maxRetries: 1, random: () => 0.5 }).catch(() => undefined),
    );
    while (await clock.next()) {}
    await Promise.all(outcomes);
    expect(counters.map((c) => c.attempts).sort()).toEqual([1, 2, 2, 2]);
    expect(budget.snapshot()).toMatchObject({
      totalCalls: 4,
      totalRetries: 3,
      budgetExhausted: 1,
      inFlight: 0,
    });
  });

  test('releases its grant when aborted during the wait', async () => {
    const clock = createManualClock();
    const budget = createRetryBudget({ clock });
    const controller = new AbortController();
    const settled = retry(failing({ attempts: 0 }), { clock, budget, signal: controller.signal }).catch(
      (error: unknown) => error,
    );
    await clock.advance(0);
    expect(budget.snapshot().inFlight).toBe(1);
    controller.abort(new Error('stop'));
    expect(((await settled) as Error).message).toBe('stop');
    expect(budget.snapshot().inFlight).toBe(0);
  });

  test('a first attempt that succeeds only counts the call', async () => {
    const budget = createRetryBudget({ clock: createManualClock() });
    await expect(retry(() => 42, { budget })).resolves.toBe(42);
    expect(budget.snapshot()).toMatchObject({ totalCalls: 1, totalRetries: 0, inFlight: 0 });
  });
});

describe('retry storm (small scenario A: 50 % failures at random, seeded)', () => {
  test('the bridge LLM path with its breaker held CLOSED: backend calls ≤ 1.1× logical calls', async () => {
    const ours = await runStorm({
      strategy: 'ours-closed',
      failureRate: 0.5,
      callers: 20,
      seconds: 3,
      seed: 7,
    });
    expect(ours.logicalCalls).toBe(600);
    // Health probes (GET /models) would reach the backend without any retry: not counted.
    const amplification = (ours.backendCalls - ours.probeCalls) / ours.logicalCalls;
    expect(amplification).toBeLessThanOrEqual(1.1);
    expect(amplification).toBeGreaterThan(1.05); // the budget is spent, not idle
  }, 60_000);

  test('naive 3-retry amplifies to about 1.9×', async () => {
    const naive = await runStorm({ strategy: 'naive', failureRate: 0.5, callers: 20, seconds: 3, seed: 7 });
    expect(naive.backendCalls / naive.logicalCalls).toBeGreaterThan(1.7);
  }, 60_000);
});
