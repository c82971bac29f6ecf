import { describe, expect, test } from 'vitest';
import { createActor, SimulatedClock } from 'xstate';
import { breakerMachine } from './breaker.machine.js';

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

  test('every guard, action and delay is named, so the definition serializes for diagrams', () => {
    const json = JSON.stringify(breakerMachine.toJSON());
    expect(json).not.toContain('"type":null');
    expect(json).toContain('resetTimeout');
    expect(json).toContain('hasTrialCapacity');
  });
});
