import { describe, expect, test } from 'vitest';
import { createActor, fromPromise, SimulatedClock } from 'xstate';
import { settle } from '../src/clock.js';
import { retryMachine } from './retry.machine.js';

const input = { operation: 'test', maxRetries: 2, baseDelayMs: 100, maxDelayMs: 1_000, jitter: 0.2 };

describe('retryMachine', () => {
  test('the defaults retry nothing: one failed attempt ends in failed', async () => {
    const machine = retryMachine.provide({
      actors: {
        attempt: fromPromise<unknown, { attempt: number }>(async () => {
          throw new Error('no');
        }),
      },
    });
    const actor = createActor(machine, { input }).start();
    await settle();
    expect(actor.getSnapshot().value).toBe('failed');
    expect(actor.getSnapshot().context.attempt).toBe(0);
  });

  test('retries on the backoff delay until success', async () => {
    const clock = new SimulatedClock();
    const machine = retryMachine.provide({
      actors: {
        attempt: fromPromise<unknown, { attempt: number }>(async ({ input: { attempt } }) => {
          if (attempt < 2) throw new Error('again');
          return 'ok';
        }),
      },
      guards: { isRetryable: () => true },
    });
    const actor = createActor(machine, { input, clock }).start();
    await settle();
    expect(actor.getSnapshot().value).toBe('waiting');
    expect(actor.getSnapshot().context.nextDelayMs).toBe(100);
    clock.increment(100);
    await settle();
    expect(actor.getSnapshot().context.nextDelayMs).toBe(200);
    clock.increment(200);
    await settle();
    expect(actor.getSnapshot().value).toBe('succeeded');
    expect(actor.getSnapshot().context).toMatchObject({ attempt: 2, output: 'ok', totalDelayMs: 300 });
  });

  test('ABORT ends it from any state', () => {
    const actor = createActor(retryMachine, { input }).start();
    actor.send({ type: 'ABORT', reason: 'bye' });
    expect(actor.getSnapshot().value).toBe('aborted');
    expect(actor.getSnapshot().context.abortReason).toBe('bye');
  });
});
