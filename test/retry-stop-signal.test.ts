/*
 * `retry()`'s `stopSignal`: a second signal (an owner's stop, a backend's) that ends the loop exactly
 * as `signal` does — before the first attempt, during an attempt, during a wait — rejecting with its
 * own reason, while attempts keep receiving `signal` (the caller's). All time runs on a manual clock.
 */
import { describe, expect, test } from 'vitest';
import { createManualClock, settle } from '../src/clock.js';
import { retry } from '../src/reliability/retry.js';
import { createRetryMetrics } from '../src/reliability/retry-metrics.js';
import { outcomeOf } from './support/outcome.js';

describe('retry: stopSignal', () => {
  test('already aborted: rejects with its reason before the first attempt', async () => {
    const stop = new AbortController();
    stop.abort('backend stopped');
    let attempts = 0;
    const box = outcomeOf(
      retry(
        () => {
          attempts++;
          return 1;
        },
        { signal: new AbortController().signal, stopSignal: stop.signal },
      ),
    );
    await settle();
    expect(box.outcome).toEqual({ error: 'backend stopped' });
    expect(attempts).toBe(0);
  });

  test('aborted during the first attempt: rejects at once with its reason; the attempt had the caller signal', async () => {
    const clock = createManualClock();
    const caller = new AbortController();
    const stop = new AbortController();
    const seen: AbortSignal[] = [];
    const metrics = createRetryMetrics();
    const box = outcomeOf(
      retry(
        (_attempt, signal) => {
          seen.push(signal);
          return new Promise<string>(() => {});
        },
        {
          clock,
          random: () => 0.5,
          signal: caller.signal,
          stopSignal: stop.signal,
          metrics,
          operation: 'op',
        },
      ),
    );
    await settle();
    expect(box.outcome).toBeUndefined();
    stop.abort('backend stopped');
    await settle();
    expect(box.outcome).toEqual({ error: 'backend stopped' });
    expect(seen).toEqual([caller.signal]);
    expect(metrics.snapshot().operations.op).toMatchObject({ attempts: 1, failures: 1 });
    expect(caller.signal.aborted).toBe(false);
  });

  test('aborted during a wait: rejects with its reason, clears the timer, makes no further attempt', async () => {
    const clock = createManualClock();
    const stop = new AbortController();
    let attempts = 0;
    const box = outcomeOf(
      retry(
        async () => {
          attempts++;
          throw new Error('transient');
        },
        {
          clock,
          random: () => 0.5,
          maxRetries: 3,
          signal: new AbortController().signal,
          stopSignal: stop.signal,
        },
      ),
    );
    await settle();
    expect(clock.pendingTimers()).toBe(1);
    stop.abort('backend stopped');
    await settle();
    expect(box.outcome).toEqual({ error: 'backend stopped' });
    expect(clock.pendingTimers()).toBe(0);
    await clock.advance(60_000);
    expect(attempts).toBe(1);
  });

  test("the caller's signal still ends it with the caller's reason", async () => {
    const clock = createManualClock();
    const caller = new AbortController();
    const stop = new AbortController();
    const box = outcomeOf(
      retry(() => new Promise<string>(() => {}), {
        clock,
        signal: caller.signal,
        stopSignal: stop.signal,
      }),
    );
    caller.abort('caller left');
    await settle();
    expect(box.outcome).toEqual({ error: 'caller left' });
  });
});
