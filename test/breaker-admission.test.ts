/*
 * The breaker's third outcome (cancelled), its one admission path (canAdmit / retryAfterMs / refusal),
 * its transition stream, HOLD_OPEN and restore bounds. All time on a manual clock, except the one test
 * that needs a real timer to show no TimeoutOverflowWarning (it never waits on it).
 */
import { describe, expect, test } from 'vitest';
import { createManualClock, settle } from '../src/clock.js';
import { type BreakerTransition, createCircuitBreaker } from '../src/reliability/breaker.js';
import { BrokenCircuitError } from '../src/reliability/errors.js';

const fail = () => Promise.reject(new Error('down'));

/** A call that settles only after its caller aborted. */
function abortedCall(breaker: ReturnType<typeof createCircuitBreaker>, outcome: 'resolve' | 'reject') {
  const caller = new AbortController();
  let settleCall: () => void = () => {};
  const result = breaker
    .execute(
      () =>
        new Promise<string>((resolve, reject) => {
          settleCall = () => (outcome === 'resolve' ? resolve('late') : reject(new Error('late')));
        }),
      { signal: caller.signal },
    )
    .catch(() => 'rejected');
  return {
    async finish() {
      caller.abort('caller left');
      settleCall();
      await result;
      await settle();
    },
  };
}

describe('cancellation is a third outcome', () => {
  for (const outcome of ['resolve', 'reject'] as const) {
    test(`CLOSED: a call that settles (${outcome}) after its caller aborted neither resets nor adds to the failure count`, async () => {
      const breaker = createCircuitBreaker({ failureThreshold: 5, clock: createManualClock() });
      for (let i = 0; i < 4; i++) await breaker.execute(fail).catch(() => {});
      const call = abortedCall(breaker, outcome);
      await call.finish();
      expect(breaker.metrics()).toMatchObject({ consecutiveFailures: 4, cancelledCalls: 1, state: 'CLOSED' });
      await breaker.execute(fail).catch(() => {});
      expect(breaker.state).toBe('OPEN');
      expect(breaker.metrics()).toMatchObject({ totalFailures: 5, totalSuccesses: 0, cancelledCalls: 1 });
      breaker.stop();
    });
  }

  test('HALF_OPEN: aborted trials free their slots and never close (or reopen) the breaker', async () => {
    const clock = createManualClock();
    const breaker = createCircuitBreaker({
      failureThreshold: 1,
      resetTimeoutMs: 1_000,
      halfOpenMaxCalls: 2,
      successThreshold: 2,
      clock,
    });
    await breaker.execute(fail).catch(() => {});
    await clock.advance(1_000);
    expect(breaker.state).toBe('HALF_OPEN');
    const first = abortedCall(breaker, 'resolve');
    const second = abortedCall(breaker, 'reject');
    expect(breaker.canAdmit()).toBe(false);
    await first.finish();
    await second.finish();
    expect(breaker.state).toBe('HALF_OPEN');
    expect(breaker.canAdmit()).toBe(true);
    expect(breaker.metrics()).toMatchObject({ cancelledCalls: 2, consecutiveFailures: 1 });
    expect(breaker.actor.getSnapshot().context.trialsInFlight).toBe(0);
    breaker.stop();
  });
});

describe('one admission path', () => {
  test('canAdmit and retryAfterMs follow the machine; retryAfterMs and messages are whole milliseconds', async () => {
    const clock = createManualClock();
    const breaker = createCircuitBreaker({
      failureThreshold: 1,
      resetTimeoutMs: 1_000,
      resetJitter: 0.2,
      random: () => 1 / 3, // OPEN lasts 933.33… ms
      halfOpenMaxCalls: 1,
      clock,
    });
    expect(breaker.canAdmit()).toBe(true);
    expect(breaker.retryAfterMs()).toBe(0);
    await breaker.execute(fail).catch(() => {});
    expect(breaker.canAdmit()).toBe(false);
    expect(breaker.retryAfterMs()).toBe(934);
    const refusal = await breaker.execute(() => 'x').catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(BrokenCircuitError);
    expect((refusal as BrokenCircuitError).retryAfterMs).toBe(934);
    expect((refusal as BrokenCircuitError).message).toMatch(/ in 934 ms$/);
    await clock.advance(100);
    expect(breaker.retryAfterMs()).toBe(834);
    await clock.advance(834);
    expect(breaker.state).toBe('HALF_OPEN');
    expect(breaker.canAdmit()).toBe(true);
    expect(breaker.retryAfterMs()).toBe(0);
    breaker.stop();
  });

  test('refusal() is the breaker refusing: counted in rejectedCalls like an execute refusal', async () => {
    const breaker = createCircuitBreaker({ failureThreshold: 1, clock: createManualClock() });
    expect(breaker.refusal()).toBeUndefined();
    await breaker.execute(fail).catch(() => {});
    for (let i = 0; i < 394; i++) expect(breaker.refusal()).toBeInstanceOf(BrokenCircuitError);
    expect(breaker.metrics().rejectedCalls).toBe(394);
    breaker.stop();
  });

  test('onTransition reports every state change once, with its reason, until unsubscribed', async () => {
    const clock = createManualClock();
    const breaker = createCircuitBreaker({
      failureThreshold: 1,
      resetTimeoutMs: 1_000,
      successThreshold: 1,
      clock,
    });
    const seen: BreakerTransition[] = [];
    const stop = breaker.onTransition((t) => seen.push(t));
    await breaker.execute(fail).catch(() => {});
    await clock.advance(1_000);
    await breaker.execute(() => 'ok');
    expect(seen.map((t) => `${t.from}>${t.to}:${t.reason}@${t.at}`)).toEqual([
      'CLOSED>OPEN:failure threshold reached@0',
      'OPEN>HALF_OPEN:reset timeout elapsed@1000',
      'HALF_OPEN>CLOSED:trial calls succeeded@1000',
    ]);
    stop();
    breaker.reset();
    await breaker.execute(fail).catch(() => {});
    expect(seen).toHaveLength(3);
    breaker.stop();
  });
});

describe('HOLD_OPEN: the backend asked to wait', () => {
  test('holds OPEN for the time asked, capped by maxHoldOpenMs; a shorter hold does not shorten it', async () => {
    const clock = createManualClock();
    const breaker = createCircuitBreaker({ resetTimeoutMs: 1_000, maxHoldOpenMs: 600_000, clock });
    breaker.holdOpen(3_600_000);
    expect(breaker.state).toBe('OPEN');
    expect(breaker.retryAfterMs()).toBe(600_000);
    breaker.holdOpen(5_000);
    expect(breaker.retryAfterMs()).toBe(600_000);
    expect(breaker.metrics().transitions.at(-1)).toMatchObject({
      to: 'OPEN',
      reason: 'backend asked to wait',
    });
    await clock.advance(599_999);
    expect(breaker.state).toBe('OPEN');
    await clock.advance(1);
    expect(breaker.state).toBe('HALF_OPEN');
    breaker.stop();
  });
});

describe('restore is the machine resuming', () => {
  test('a restored OPEN deadline years ahead is bounded by resetTimeoutMs after the restore', async () => {
    const clock = createManualClock(1_000_000);
    const yearsAhead = clock.now() + 10 * 365 * 24 * 3_600_000;
    const breaker = createCircuitBreaker({
      resetTimeoutMs: 30_000,
      clock,
      restore: {
        state: 'OPEN',
        consecutiveFailures: 5,
        openedAt: yearsAhead - 30_000,
        reopensAt: yearsAhead,
      },
    });
    expect(breaker.state).toBe('OPEN');
    expect(breaker.retryAfterMs()).toBe(30_000);
    expect(breaker.checkpoint()).toMatchObject({ state: 'OPEN', reopensAt: clock.now() + 30_000 });
    await clock.advance(30_000);
    expect(breaker.state).toBe('HALF_OPEN');
    breaker.stop();
  });

  test('on the system clock, a deadline years ahead schedules no overflowing timer', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const now = Date.now();
      const breaker = createCircuitBreaker({
        resetTimeoutMs: 30_000,
        restore: {
          state: 'OPEN',
          consecutiveFailures: 5,
          openedAt: now,
          reopensAt: now + 50 * 365 * 86_400_000,
        },
      });
      expect(breaker.retryAfterMs()).toBeLessThanOrEqual(30_000);
      breaker.stop();
      // Node emits the warning on a later turn of the event loop.
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.map((w) => w.name)).not.toContain('TimeoutOverflowWarning');
  });
});
