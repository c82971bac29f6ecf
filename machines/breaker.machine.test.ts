import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { createActor, SimulatedClock } from 'xstate';
import { type BreakerRule, breakerMachine } from './breaker.machine.js';
import { recordOutcome, type SlidingWindow, windowTotals } from './breaker-rule.js';

const input = { failureThreshold: 2, resetTimeoutMs: 1_000, halfOpenMaxCalls: 1, successThreshold: 1 };

describe('breakerMachine', () => {
  test('CLOSED counts failures and trips at the threshold', () => {
    const actor = createActor(breakerMachine, { input }).start();
    actor.send({ type: 'FAILURE' });
    expect(actor.getSnapshot().value).toBe('CLOSED');
    expect(actor.getSnapshot().can({ type: 'SUCCESS' })).toBe(true);
    actor.send({ type: 'FAILURE' });
    expect(actor.getSnapshot().value).toBe('OPEN');
    expect(actor.getSnapshot().context.reason).toBe('failure threshold reached');
    actor.stop();
  });

  test('a success with no failures counted is not an enabled transition', () => {
    const actor = createActor(breakerMachine, { input }).start();
    expect(actor.getSnapshot().can({ type: 'SUCCESS' })).toBe(false);
    actor.stop();
  });

  test('OPEN half-opens on the resetTimeout delay; trial slots are guarded', () => {
    const clock = new SimulatedClock();
    const actor = createActor(breakerMachine, { input, clock }).start();
    actor.send({ type: 'FAILURE' });
    actor.send({ type: 'FAILURE' });
    expect(actor.getSnapshot().can({ type: 'TRIAL_START' })).toBe(false);
    clock.increment(1_000);
    expect(actor.getSnapshot().value).toBe('HALF_OPEN');
    expect(actor.getSnapshot().can({ type: 'TRIAL_SUCCESS' })).toBe(false);
    actor.send({ type: 'TRIAL_START' });
    expect(actor.getSnapshot().can({ type: 'TRIAL_START' })).toBe(false);
    actor.send({ type: 'TRIAL_SUCCESS' });
    expect(actor.getSnapshot().value).toBe('CLOSED');
    expect(actor.getSnapshot().context.consecutiveFailures).toBe(0);
    actor.stop();
  });

  test('a failed trial reopens; RESET closes from anywhere', () => {
    const clock = new SimulatedClock();
    const actor = createActor(breakerMachine, { input, clock }).start();
    actor.send({ type: 'FAILURE' });
    actor.send({ type: 'FAILURE' });
    clock.increment(1_000);
    actor.send({ type: 'TRIAL_START' });
    actor.send({ type: 'TRIAL_FAILURE' });
    expect(actor.getSnapshot().value).toBe('OPEN');
    actor.send({ type: 'RESET' });
    expect(actor.getSnapshot().value).toBe('CLOSED');
    expect(actor.getSnapshot().context.reason).toBe('manual reset');
    actor.stop();
  });

  test('a cancelled trial frees its slot and changes nothing else', () => {
    const clock = new SimulatedClock();
    const actor = createActor(breakerMachine, { input, clock }).start();
    actor.send({ type: 'FAILURE', at: 0 });
    actor.send({ type: 'FAILURE', at: 0 });
    clock.increment(1_000);
    actor.send({ type: 'TRIAL_START' });
    expect(actor.getSnapshot().can({ type: 'TRIAL_START' })).toBe(false);
    actor.send({ type: 'TRIAL_CANCELLED' });
    expect(actor.getSnapshot().value).toBe('HALF_OPEN');
    expect(actor.getSnapshot().context).toMatchObject({
      trialsInFlight: 0,
      trialSuccesses: 0,
      consecutiveFailures: 2,
    });
    expect(actor.getSnapshot().can({ type: 'TRIAL_START' })).toBe(true);
    expect(actor.getSnapshot().can({ type: 'TRIAL_CANCELLED' })).toBe(false);
    actor.stop();
  });

  test('HOLD_OPEN opens for its duration; only a later deadline replaces the current one', () => {
    const clock = new SimulatedClock();
    const actor = createActor(breakerMachine, { input, clock }).start();
    actor.send({ type: 'HOLD_OPEN', durationMs: 5_000, at: 100 });
    expect(actor.getSnapshot().value).toBe('OPEN');
    expect(actor.getSnapshot().context).toMatchObject({
      openedAt: 100,
      reopensAt: 5_100,
      openDelayMs: 5_000,
    });
    expect(actor.getSnapshot().can({ type: 'HOLD_OPEN', durationMs: 1_000, at: 100 })).toBe(false);
    expect(actor.getSnapshot().can({ type: 'HOLD_OPEN', durationMs: 9_000, at: 100 })).toBe(true);
    clock.increment(4_999);
    expect(actor.getSnapshot().value).toBe('OPEN');
    clock.increment(1);
    expect(actor.getSnapshot().value).toBe('HALF_OPEN');
    expect(actor.getSnapshot().context.reopensAt).toBeNull();
    actor.stop();
  });

  test('the resume input starts it where it was, the OPEN deadline bounded by resetTimeoutMs', () => {
    const resumed = (resume: Parameters<typeof createActor<typeof breakerMachine>>[1]) =>
      createActor(breakerMachine, resume).start().getSnapshot();
    const open = resumed({
      input: {
        ...input,
        resume: { state: 'OPEN', consecutiveFailures: 2, openedAt: 0, reopensAt: 1e15, now: 50 },
      },
    });
    expect(open.value).toBe('OPEN');
    expect(open.context).toMatchObject({
      consecutiveFailures: 2,
      reopensAt: 1_050,
      openDelayMs: 1_000,
      resume: null,
    });
    const past = resumed({
      input: {
        ...input,
        resume: { state: 'OPEN', consecutiveFailures: 2, openedAt: 0, reopensAt: 10, now: 50 },
      },
    });
    expect(past.value).toBe('HALF_OPEN');
    const closed = resumed({
      input: {
        ...input,
        resume: { state: 'CLOSED', consecutiveFailures: 1, openedAt: null, reopensAt: null, now: 0 },
      },
    });
    expect(closed.value).toBe('CLOSED');
    expect(closed.context.consecutiveFailures).toBe(1);
  });

  test('every guard, action and delay is named, so the definition serializes for diagrams', () => {
    const json = JSON.stringify(breakerMachine.toJSON());
    expect(json).not.toContain('"type":null');
    expect(json).toContain('resetTimeout');
    expect(json).toContain('hasTrialCapacity');
  });
});

describe('SUCCESS with a count', () => {
  const failureRate = (window: SlidingWindow): BreakerRule => ({
    kind: 'failureRate',
    failureRateThreshold: 0.5,
    minimumCalls: 4,
    window,
  });
  /** A run of `count` calls with one outcome, `dt` ms after the previous run. */
  const runs = fc.array(
    fc.record({ failed: fc.boolean(), count: fc.integer({ min: 1, max: 7 }), dt: fc.nat(400) }),
    { maxLength: 40 },
  );

  for (const window of [
    { kind: 'count', size: 5 },
    { kind: 'time', ms: 1_000 },
  ] as const) {
    test(`equals that many single SUCCESS events (${window.kind} window, eviction at its bound included)`, () => {
      fc.assert(
        fc.property(runs, (steps) => {
          const rule = failureRate(window);
          const single = createActor(breakerMachine, {
            input: { ...input, rule },
            clock: new SimulatedClock(),
          });
          const batched = createActor(breakerMachine, {
            input: { ...input, rule },
            clock: new SimulatedClock(),
          });
          single.start();
          batched.start();
          let at = 0;
          for (const { failed, count, dt } of steps) {
            at += dt;
            if (failed) {
              for (let i = 0; i < count; i++) {
                single.send({ type: 'FAILURE', at });
                batched.send({ type: 'FAILURE', at });
              }
            } else {
              for (let i = 0; i < count; i++) single.send({ type: 'SUCCESS', at });
              batched.send({ type: 'SUCCESS', count, at });
            }
            const expected = single.getSnapshot();
            expect(batched.getSnapshot().value).toBe(expected.value);
            expect(batched.getSnapshot().context).toEqual(expected.context);
            if (expected.value !== 'CLOSED') {
              single.send({ type: 'RESET' });
              batched.send({ type: 'RESET' });
            }
          }
          single.stop();
          batched.stop();
        }),
      );
    });
  }

  test('a count window holds at most `size` calls however large the batch, oldest out first', () => {
    const window = { kind: 'count', size: 3 } as const;
    const huge = recordOutcome([], window, false, 0, 1_000_000);
    expect(huge).toHaveLength(1);
    expect(windowTotals(huge, window, 0)).toEqual({ calls: 3, failures: 0 });
    // F F then two successes: the oldest failure leaves, the newer one stays.
    const mixed = recordOutcome(recordOutcome([], window, true, 0, 2), window, false, 0, 2);
    expect(windowTotals(mixed, window, 0)).toEqual({ calls: 3, failures: 1 });
    expect(mixed.length).toBeLessThanOrEqual(3);
  });

  test('the consecutive rule takes a counted SUCCESS as it takes one', () => {
    const actor = createActor(breakerMachine, { input }).start();
    actor.send({ type: 'FAILURE' });
    actor.send({ type: 'SUCCESS', count: 3 });
    expect(actor.getSnapshot().context.consecutiveFailures).toBe(0);
    expect(actor.getSnapshot().context.window).toEqual([]);
    actor.stop();
  });
});
