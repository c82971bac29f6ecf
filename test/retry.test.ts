import { describe, expect, test } from 'vitest';
import { createManualClock } from '../src/clock.js';
import { BrokenCircuitError } from '../src/reliability/errors.js';
import { DEFAULT_RETRY_POLICIES } from '../src/reliability/policies.js';
import { type RetryInfo, retry } from '../src/reliability/retry.js';
import { createRetryMetrics } from '../src/reliability/retry-metrics.js';

const noJitter = () => 0.5;

/** Runs the clock until `promise` settles (at most 100 timers). */
async function drive<T>(clock: ReturnType<typeof createManualClock>, promise: Promise<T>) {
  let settled = false;
  const result = promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  void result.then(() => (settled = true));
  for (let i = 0; i < 100 && !settled; i++) await clock.next();
  return result;
}

describe('retry', () => {
  test('makes at most 1 + maxRetries attempts and rejects with the last error itself', async () => {
    const clock = createManualClock();
    const errors = [new Error('a'), new Error('b'), new Error('c'), new Error('d')];
    let attempts = 0;
    const outcome = await drive(
      clock,
      retry(
        async (attempt) => {
          attempts++;
          throw errors[attempt];
        },
        { clock, random: noJitter },
      ),
    );
    expect(attempts).toBe(4);
    expect(outcome).toEqual({ error: errors[3] });
    expect(clock.now()).toBe(100 + 200 + 400);
  });

  test('waits backoffDelay(k) before retry k, jitter and cap included', async () => {
    const clock = createManualClock();
    const infos: RetryInfo[] = [];
    const draws = [0, 0.999, 0.5, 0.5];
    await drive(
      clock,
      retry(
        async () => {
          throw new Error('x');
        },
        {
          clock,
          maxRetries: 4,
          baseDelayMs: 100,
          maxDelayMs: 500,
          jitter: 0.2,
          random: () => draws.shift() ?? 0.5,
          operation: 'op',
          onRetry: (info) => infos.push(info),
        },
      ),
    );
    expect(infos.map((i) => Math.round(i.delayMs))).toEqual([80, 240, 400, 500]);
    expect(infos.map((i) => i.attempt)).toEqual([1, 2, 3, 4]);
    expect(infos.map((i) => i.maxAttempts)).toEqual([5, 5, 5, 5]);
    expect(infos[0]?.operation).toBe('op');
  });

  test('resolves with the first success', async () => {
    const clock = createManualClock();
    const outcome = await drive(
      clock,
      retry(
        async (attempt) => {
          if (attempt < 2) throw new Error('not yet');
          return `done on ${attempt}`;
        },
        { clock, random: noJitter },
      ),
    );
    expect(outcome).toEqual({ value: 'done on 2' });
  });

  test('never retries BrokenCircuitError', async () => {
    let attempts = 0;
    const error = new BrokenCircuitError('x', 'OPEN', 1_000);
    await expect(
      retry(async () => {
        attempts++;
        throw error;
      }),
    ).rejects.toBe(error);
    expect(attempts).toBe(1);
  });

  test('shouldRetry returning false stops at once', async () => {
    const clock = createManualClock();
    let attempts = 0;
    const outcome = await drive(
      clock,
      retry(
        async () => {
          attempts++;
          throw new Error(attempts === 2 ? 'fatal' : 'transient');
        },
        { clock, shouldRetry: (error) => (error as Error).message !== 'fatal' },
      ),
    );
    expect(attempts).toBe(2);
    expect((outcome as { error: Error }).error.message).toBe('fatal');
  });

  test('an already aborted signal rejects before the first attempt', async () => {
    let attempts = 0;
    const signal = AbortSignal.abort(new Error('cancelled'));
    await expect(retry(() => attempts++, { signal })).rejects.toThrow('cancelled');
    expect(attempts).toBe(0);
  });

  test('aborting during a wait rejects at once, clears the timer and starts no attempt', async () => {
    const clock = createManualClock();
    const controller = new AbortController();
    let attempts = 0;
    const promise = retry(
      async () => {
        attempts++;
        throw new Error('x');
      },
      { clock, signal: controller.signal },
    );
    await clock.advance(10);
    expect(clock.pendingTimers()).toBe(1);
    controller.abort('user left');
    await expect(promise).rejects.toBe('user left');
    expect(clock.pendingTimers()).toBe(0);
    await clock.advance(60_000);
    expect(attempts).toBe(1);
  });

  test('aborting during an attempt rejects at once even if fn ignores the signal', async () => {
    const clock = createManualClock();
    const controller = new AbortController();
    const never = new Promise<never>(() => {});
    const first = retry(() => never, { clock, signal: controller.signal });
    controller.abort('stop');
    await expect(first).rejects.toBe('stop');

    const second = new AbortController();
    let attempts = 0;
    const later = retry(
      async (attempt, signal) => {
        attempts++;
        expect(signal).toBe(second.signal);
        if (attempt === 0) throw new Error('x');
        return never;
      },
      { clock, signal: second.signal },
    );
    await clock.next();
    expect(attempts).toBe(2);
    second.abort('stop again');
    await expect(later).rejects.toBe('stop again');
    expect(clock.pendingTimers()).toBe(0);
  });

  test('an error carrying retryAfterMs waits at least that long; one asking longer than maxDelayMs stops at once', async () => {
    const clock = createManualClock();
    const infos: number[] = [];
    const busy = Object.assign(new Error('429'), { retryAfterMs: 5_000 });
    const tooLong = Object.assign(new Error('503'), { retryAfterMs: 60_000 });
    let attempts = 0;
    const outcome = await drive(
      clock,
      retry(
        async (attempt) => {
          attempts++;
          if (attempt === 0) throw busy;
          if (attempt === 1) throw tooLong;
          return 'ok';
        },
        { clock, random: noJitter, maxDelayMs: 10_000, onRetry: (i) => infos.push(i.delayMs) },
      ),
    );
    expect(infos).toEqual([5_000]);
    expect(outcome).toEqual({ error: tooLong });
    expect(attempts).toBe(2);
    expect(clock.pendingTimers()).toBe(0);
  });

  test('operation picks its DEFAULT_RETRY_POLICIES entry; explicit options override it', async () => {
    expect(DEFAULT_RETRY_POLICIES).toEqual({
      connectEvolutionSocket: { maxRetries: 5, baseDelayMs: 200 },
      connectAgentSocket: { maxRetries: 5, baseDelayMs: 200 },
      sendLLMPrompt: { maxRetries: 2, baseDelayMs: 500 },
      sendA2AMessage: { maxRetries: 4, baseDelayMs: 150 },
      fetch: { maxRetries: 3, baseDelayMs: 100 },
    });
    const clock = createManualClock();
    const delays: number[] = [];
    const failing = async () => {
      throw new Error('x');
    };
    await drive(
      clock,
      retry(failing, {
        clock,
        random: noJitter,
        operation: 'sendLLMPrompt',
        onRetry: (i) => delays.push(i.delayMs),
      }),
    );
    expect(delays).toEqual([500, 1_000]);
    delays.length = 0;
    await drive(
      clock,
      retry(failing, {
        clock,
        random: noJitter,
        operation: 'sendLLMPrompt',
        maxRetries: 1,
        onRetry: (i) => delays.push(i.delayMs),
      }),
    );
    expect(delays).toEqual([500]);
  });

  test('records attempts, outcomes and delays into a metrics registry', async () => {
    const clock = createManualClock();
    const metrics = createRetryMetrics();
    expect(metrics.snapshot().successRate).toBeNull();
    await retry(() => 'first time', { metrics });
    await drive(
      clock,
      retry(
        async (attempt) => {
          if (attempt === 0) throw new Error('x');
          return 'ok';
        },
        { clock, metrics, random: noJitter, operation: 'fetch' },
      ),
    );
    await drive(
      clock,
      retry(
        async () => {
          throw new Error('x');
        },
        { clock, metrics, random: noJitter, operation: 'fetch', maxRetries: 1 },
      ),
    );
    expect(metrics.snapshot()).toEqual({
      totalRetries: 2,
      successfulRetries: 1,
      failedRetries: 1,
      successRate: 0.5,
      operations: {
        default: { attempts: 1, successes: 1, failures: 0, totalDelayMs: 0 },
        fetch: { attempts: 4, successes: 1, failures: 1, totalDelayMs: 200 },
      },
    });
  });

  test.each([
    ['maxRetries', -1],
    ['maxRetries', 1.5],
    ['baseDelayMs', Number.NaN],
    ['maxDelayMs', -5],
    ['jitter', 1.5],
  ])('rejects %s = %s with a RangeError naming it', (option, value) => {
    expect(() => retry(() => 1, { [option]: value })).toThrow(RangeError);
    expect(() => retry(() => 1, { [option]: value })).toThrow(option);
  });
});
