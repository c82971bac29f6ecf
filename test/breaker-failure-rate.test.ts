import { describe, expect, test } from 'vitest';
import { createActor } from 'xstate';
import { breakerMachine } from '../machines/breaker.machine.js';
import { recordOutcome, TIME_BUCKETS, windowTotals } from '../machines/breaker-rule.js';
import { createManualClock } from '../src/clock.js';
import { type CircuitBreaker, createCircuitBreaker } from '../src/reliability/breaker.js';

/** One call that fails, its rejection swallowed. */
function failOnce(breaker: CircuitBreaker): Promise<unknown> {
  return breaker
    .execute(() => {
      throw new Error('x');
    })
    .catch(() => undefined);
}

/**
 * A backend up for 200 ms, down for 200 ms, for `seconds`, called every `periodMs` on a manual clock.
 * Returns the breaker's trips.
 */
async function flap(breaker: CircuitBreaker, clock: ReturnType<typeof createManualClock>, seconds = 60) {
  const periodMs = 50;
  for (let t = 0; t < seconds * 1000; t += periodMs) {
    const up = Math.floor(clock.now() / 200) % 2 === 0;
    await breaker
      .execute(() => {
        if (!up) throw new Error('down');
        return 'ok';
      })
      .catch(() => undefined);
    await clock.advance(periodMs);
  }
  return breaker.metrics().tripsCount;
}

describe('the failure-rate breaker rule', () => {
  test('a backend flapping every 200 ms for 60 s trips it; the consecutive rule never trips', async () => {
    const consecutiveClock = createManualClock();
    const consecutive = createCircuitBreaker({ clock: consecutiveClock });
    expect(await flap(consecutive, consecutiveClock)).toBe(0);
    consecutive.stop();

    for (const window of [
      { kind: 'count', size: 20 },
      { kind: 'time', ms: 10_000 },
    ] as const) {
      const clock = createManualClock();
      const breaker = createCircuitBreaker({ clock, rule: { kind: 'failureRate', window } });
      expect(await flap(breaker, clock), window.kind).toBeGreaterThan(0);
      expect(breaker.metrics().transitions[0]?.reason).toBe('failure rate threshold reached');
      breaker.stop();
    }
  });

  test('it cannot trip before minimumCalls, and trips at the threshold rate', async () => {
    const clock = createManualClock();
    const breaker = createCircuitBreaker({
      clock,
      rule: {
        kind: 'failureRate',
        failureRateThreshold: 0.5,
        minimumCalls: 4,
        window: { kind: 'count', size: 4 },
      },
    });
    const fail = () => failOnce(breaker);
    await breaker.execute(() => 'ok');
    await fail();
    await fail();
    expect(breaker.state).toBe('CLOSED'); // 3 calls < minimumCalls
    await breaker.execute(() => 'ok');
    expect(breaker.state).toBe('CLOSED'); // a success never trips
    await fail(); // window [F, F, S, F]: 75 %
    expect(breaker.state).toBe('OPEN');
    breaker.stop();
  });

  test('a time window forgets outcomes older than its length', async () => {
    const clock = createManualClock();
    const breaker = createCircuitBreaker({
      clock,
      rule: { kind: 'failureRate', minimumCalls: 4, window: { kind: 'time', ms: 1_000 } },
    });
    const fail = () => failOnce(breaker);
    await breaker.execute(() => 'ok');
    await fail();
    await fail();
    await clock.advance(1_000);
    await fail(); // the first three fell out: 1 call in the window (else S F F F: 75 %)
    expect(breaker.state).toBe('CLOSED');
    await fail();
    await fail();
    await fail();
    expect(breaker.state).toBe('OPEN');
    expect(breaker.metrics().transitions.at(-1)?.reason).toBe('failure rate threshold reached');
    breaker.stop();
  });

  test('the window is bounded data: count windows by size, time windows by their buckets', () => {
    let count = recordOutcome([], { kind: 'count', size: 3 }, true, 0);
    for (let i = 0; i < 10; i++) count = recordOutcome(count, { kind: 'count', size: 3 }, i % 2 === 0, i);
    expect(count).toHaveLength(3);
    const window = { kind: 'time', ms: 1_000 } as const;
    let time = recordOutcome([], window, true, 0);
    for (let at = 0; at < 10_000; at += 7) time = recordOutcome(time, window, at % 3 === 0, at);
    expect(time.length).toBeLessThanOrEqual(TIME_BUCKETS);
    expect(windowTotals(time, window, 10_000).calls).toBeLessThan(200);
    expect(windowTotals(time, window, 20_000).calls).toBe(0);
  });

  test('the default stays the consecutive rule, and options are validated', () => {
    const actor = createActor(breakerMachine, {
      input: { failureThreshold: 5, resetTimeoutMs: 1, halfOpenMaxCalls: 1, successThreshold: 1 },
    }).start();
    expect(actor.getSnapshot().context.rule).toEqual({ kind: 'consecutive' });
    actor.stop();
    expect(() => createCircuitBreaker({ rule: { kind: 'failureRate', failureRateThreshold: 1.5 } })).toThrow(
      /failureRateThreshold/,
    );
    expect(() =>
      createCircuitBreaker({ rule: { kind: 'failureRate', window: { kind: 'count', size: 0 } } }),
    ).toThrow(/size/);
  });
});
