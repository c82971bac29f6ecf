/*
 * Aborting `retry()`'s signal during an attempt — the first included — rejects at once with the
 * signal's reason and starts no further attempt, however the attempt then ends: a synchronous throw,
 * a later rejection, or a later success. All time runs on a manual clock.
 */
import { describe, expect, test } from 'vitest';
import { createManualClock, settle } from '../src/clock.js';
import { retry } from '../src/reliability/retry.js';
import { createRetryBudget } from '../src/reliability/retry-budget.js';
import { createRetryMetrics } from '../src/reliability/retry-metrics.js';
import { outcomeOf } from './support/outcome.js';

describe('retry: abort during an attempt', () => {
  for (const attemptIndex of [0, 1]) {
    test(`attempt ${attemptIndex} aborts its signal and throws synchronously: rejects with the reason, no further attempt`, async () => {
      const clock = createManualClock();
      const controller = new AbortController();
      let attempts = 0;
      const box = outcomeOf(
        retry(
          (attempt) => {
            attempts++;
            if (attempt === attemptIndex) controller.abort('caller left');
            throw new Error(`attempt ${attempt} failed`);
          },
          { clock, random: () => 0.5, signal: controller.signal, maxRetries: 3 },
        ),
      );
      await settle();
      for (let i = 0; i < 5 && !box.outcome; i++) {
        await clock.next();
        await settle();
      }
      expect(box.outcome).toEqual({ error: 'caller left' });
      expect(attempts).toBe(attemptIndex + 1);
      expect(clock.pendingTimers()).toBe(0);
    });

    test(`attempt ${attemptIndex} aborts its signal and rejects later: rejects at once, no further attempt`, async () => {
      const clock = createManualClock();
      const controller = new AbortController();
      let attempts = 0;
      let rejectLater: ((error: Error) => void) | undefined;
      const box = outcomeOf(
        retry(
          (attempt) => {
            attempts++;
            if (attempt < attemptIndex) return Promise.reject(new Error('transient'));
            controller.abort('caller left');
            return new Promise<string>((_, reject) => {
              rejectLater = reject;
            });
          },
          { clock, random: () => 0.5, signal: controller.signal, maxRetries: 3 },
        ),
      );
      for (let i = 0; i < 5 && !box.outcome; i++) {
        await settle();
        if (!box.outcome && clock.pendingTimers() > 0) await clock.next();
      }
      // Rejected before the attempt itself settled.
      expect(box.outcome).toEqual({ error: 'caller left' });
      rejectLater?.(new Error('late failure'));
      await settle();
      await clock.advance(60_000);
      expect(attempts).toBe(attemptIndex + 1);
      expect(clock.pendingTimers()).toBe(0);
    });
  }

  test('an abort during the first attempt is recorded as one failed attempt', async () => {
    const metrics = createRetryMetrics();
    const controller = new AbortController();
    await expect(
      retry(
        () => {
          controller.abort('stop');
          throw new Error('x');
        },
        { operation: 'op', metrics, signal: controller.signal, clock: createManualClock() },
      ),
    ).rejects.toBe('stop');
    expect(metrics.snapshot().operations.op).toMatchObject({ attempts: 1, failures: 1 });
  });
});

describe('retry: the budget is asked by an invoked actor, not by a guard', () => {
  test('a refused retry stops the loop with the last error and grants are released', async () => {
    const clock = createManualClock();
    const budget = createRetryBudget({ ratio: 0, minRetriesInFlight: 1, minRetriesPerWindow: 0, clock });
    let attempts = 0;
    const failing = () => {
      attempts++;
      return Promise.reject(new Error(`fail ${attempts}`));
    };
    const first = outcomeOf(retry(failing, { clock, budget, random: () => 0.5, maxRetries: 1 }));
    await settle();
    // The first loop holds the only retry slot while it waits.
    const second = outcomeOf(retry(failing, { clock, budget, random: () => 0.5, maxRetries: 1 }));
    await settle();
    expect((second.outcome as { error: Error }).error.message).toBe('fail 2');
    await clock.next();
    await settle();
    expect((first.outcome as { error: Error }).error.message).toBe('fail 3');
    expect(budget.snapshot()).toMatchObject({ inFlight: 0, budgetExhausted: 1, totalRetries: 1 });
  });
});
