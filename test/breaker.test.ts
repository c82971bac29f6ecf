import { describe, expect, test } from 'vitest';
import { createManualClock } from '../src/clock.js';
import { createCircuitBreaker } from '../src/reliability/breaker.js';
import { BreakerStoppedError, BrokenCircuitError } from '../src/reliability/errors.js';

const fail = () => Promise.reject(new Error('backend down'));
const succeed = () => Promise.resolve('ok');

async function trip(breaker: ReturnType<typeof createCircuitBreaker>, times: number) {
  for (let i = 0; i < times; i++) await breaker.execute(fail).catch(() => {});
}

describe('createCircuitBreaker', () => {
  test('has the seed defaults', async () => {
    const clock = createManualClock();
    const breaker = createCircuitBreaker({ clock });
    expect(breaker.name).toBe('default');
    expect(breaker.state).toBe('CLOSED');
    await trip(breaker, 4);
    expect(breaker.state).toBe('CLOSED');
    await trip(breaker, 1);
    expect(breaker.state).toBe('OPEN');
    await clock.advance(29_999);
    expect(breaker.state).toBe('OPEN');
    await clock.advance(1);
    expect(breaker.state).toBe('HALF_OPEN');
    const trials = [0, 1, 2, 3].map(() => breaker.execute(() => new Promise(() => {})));
    await expect(trials[3]).rejects.toBeInstanceOf(BrokenCircuitError);
    breaker.stop();
  });

  test('a success resets the consecutive failure count', async () => {
    const breaker = createCircuitBreaker({ clock: createManualClock(), failureThreshold: 2 });
    await trip(breaker, 1);
    expect(breaker.metrics().consecutiveFailures).toBe(1);
    await breaker.execute(succeed);
    expect(breaker.metrics().consecutiveFailures).toBe(0);
    await trip(breaker, 1);
    expect(breaker.state).toBe('CLOSED');
  });

  test('OPEN refuses without calling fn, with BrokenCircuitError telling when to come back', async () => {
    const clock = createManualClock();
    const breaker = createCircuitBreaker({
      name: 'lmStudio',
      clock,
      failureThreshold: 1,
      resetTimeoutMs: 1_000,
    });
    await trip(breaker, 1);
    await clock.advance(250);
    let called = false;
    const error = await breaker
      .execute(() => {
        called = true;
      })
      .catch((e: unknown) => e);
    expect(called).toBe(false);
    expect(error).toBeInstanceOf(BrokenCircuitError);
    expect(error).toMatchObject({
      name: 'BrokenCircuitError',
      state: 'OPEN',
      retryAfterMs: 750,
      breaker: 'lmStudio',
    });
    expect(breaker.metrics().rejectedCalls).toBe(1);
  });

  test('OPEN becomes HALF_OPEN by its timer alone, with no call', async () => {
    const clock = createManualClock();
    const breaker = createCircuitBreaker({ clock, failureThreshold: 1, resetTimeoutMs: 500 });
    await trip(breaker, 1);
    await clock.advance(500);
    expect(breaker.state).toBe('HALF_OPEN');
    expect(breaker.metrics().transitions.map((t) => [t.to, t.at, t.reason])).toEqual([
      ['OPEN', 0, 'failure threshold reached'],
      ['HALF_OPEN', 500, 'reset timeout elapsed'],
    ]);
  });

  test('HALF_OPEN closes after successThreshold trials and reopens on one failed trial', async () => {
    const clock = createManualClock();
    const breaker = createCircuitBreaker({
      clock,
      failureThreshold: 1,
      resetTimeoutMs: 100,
      successThreshold: 2,
    });
    await trip(breaker, 1);
    await clock.advance(100);
    await breaker.execute(succeed);
    expect(breaker.state).toBe('HALF_OPEN');
    await breaker.execute(succeed);
    expect(breaker.state).toBe('CLOSED');
    await trip(breaker, 1);
    await clock.advance(100);
    await breaker.execute(fail).catch(() => {});
    expect(breaker.state).toBe('OPEN');
    await clock.advance(99);
    expect(breaker.state).toBe('OPEN');
    await clock.advance(1);
    expect(breaker.state).toBe('HALF_OPEN');
    const m = breaker.metrics();
    expect(m.tripsCount).toBe(2);
    expect(m.openCount).toBe(3);
    expect(m.lastOpenDurationMs).toBe(100);
  });

  test('errors that isFailure rejects reach the caller and count as successes', async () => {
    const breaker = createCircuitBreaker({
      clock: createManualClock(),
      failureThreshold: 1,
      isFailure: (error) => !(error instanceof TypeError),
    });
    await expect(breaker.execute(() => Promise.reject(new TypeError('bad input')))).rejects.toBeInstanceOf(
      TypeError,
    );
    expect(breaker.state).toBe('CLOSED');
    expect(breaker.metrics()).toMatchObject({ totalSuccesses: 1, totalFailures: 0 });
  });

  test('a call admitted in CLOSED that fails after the breaker opened changes no state', async () => {
    const clock = createManualClock();
    const breaker = createCircuitBreaker({ clock, failureThreshold: 1, resetTimeoutMs: 100 });
    let rejectSlow: (e: Error) => void = () => {};
    const slow = breaker.execute(() => new Promise((_, reject) => (rejectSlow = reject)));
    await trip(breaker, 1);
    await clock.advance(100);
    expect(breaker.state).toBe('HALF_OPEN');
    rejectSlow(new Error('late'));
    await slow.catch(() => {});
    expect(breaker.state).toBe('HALF_OPEN');
    expect(breaker.metrics().totalFailures).toBe(2);
  });

  test('fn receives the caller signal; synchronous values and throws are handled', async () => {
    const breaker = createCircuitBreaker({ clock: createManualClock() });
    const controller = new AbortController();
    let seen: AbortSignal | undefined;
    const value = await breaker.execute(
      (signal) => {
        seen = signal;
        return 7;
      },
      { signal: controller.signal },
    );
    expect(value).toBe(7);
    expect(seen).toBe(controller.signal);
    await expect(
      breaker.execute(() => {
        throw new Error('sync');
      }),
    ).rejects.toThrow('sync');
    expect(breaker.metrics().consecutiveFailures).toBe(1);
  });

  test('reset() closes from any state; stop() clears the timer and refuses later calls', async () => {
    const clock = createManualClock();
    const breaker = createCircuitBreaker({ clock, failureThreshold: 1 });
    await trip(breaker, 1);
    expect(clock.pendingTimers()).toBe(1);
    breaker.reset();
    expect(breaker.state).toBe('CLOSED');
    expect(breaker.metrics().consecutiveFailures).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
    await trip(breaker, 1);
    breaker.stop();
    expect(clock.pendingTimers()).toBe(0);
    await expect(breaker.execute(succeed)).rejects.toBeInstanceOf(BreakerStoppedError);
  });

  test('metrics: time in each state includes the current period; history keeps the last 100', async () => {
    const clock = createManualClock();
    const breaker = createCircuitBreaker({
      clock,
      failureThreshold: 1,
      resetTimeoutMs: 10,
      successThreshold: 1,
    });
    await clock.advance(5);
    for (let i = 0; i < 40; i++) {
      await trip(breaker, 1);
      await clock.advance(10);
      await breaker.execute(succeed);
    }
    await clock.advance(7);
    const m = breaker.metrics();
    expect(m.transitions).toHaveLength(100);
    expect(m.transitions[0]?.from).toBe('HALF_OPEN');
    expect(m.timeInStateMs).toEqual({ CLOSED: 12, OPEN: 400, HALF_OPEN: 0 });
  });

  test('resetJitter spreads each OPEN period below resetTimeoutMs', async () => {
    const clock = createManualClock();
    const draws = [0.5, 0.25];
    const breaker = createCircuitBreaker({
      clock,
      failureThreshold: 1,
      resetTimeoutMs: 1_000,
      resetJitter: 0.4,
      random: () => draws.shift() ?? 0,
    });
    await trip(breaker, 1);
    await expect(breaker.execute(succeed)).rejects.toMatchObject({ retryAfterMs: 800 });
    await clock.advance(800);
    expect(breaker.state).toBe('HALF_OPEN');
    await breaker.execute(fail).catch(() => {});
    await clock.advance(899);
    expect(breaker.state).toBe('OPEN');
    await clock.advance(1);
    expect(breaker.state).toBe('HALF_OPEN');
  });

  test.each([
    ['failureThreshold', 0],
    ['failureThreshold', 1.5],
    ['resetTimeoutMs', -1],
    ['resetTimeoutMs', Number.POSITIVE_INFINITY],
    ['halfOpenMaxCalls', Number.NaN],
    ['successThreshold', 0],
    ['resetJitter', 1],
  ])('rejects %s = %s with a RangeError naming it', (option, value) => {
    expect(() => createCircuitBreaker({ [option]: value })).toThrow(RangeError);
    expect(() => createCircuitBreaker({ [option]: value })).toThrow(option);
  });
});
