/*
 * Under the failure-rate rule, a breaker with no actor counts the successes of CLOSED calls itself and
 * hands them to the machine as one `SUCCESS` with a `count`: before any other event, before any read
 * of its snapshot (snapshot, checkpoint, metrics, actor, a backend's health) and whenever a success
 * falls in another time slot of a time window. Nothing observable changes: these tests run the same
 * calls through a breaker that has its actor from the start (`inspect`: every success is an event of
 * its own) and compare.
 *
 * How many transitions the machine computes is read from a spy on `breakerMachine.transition` (the
 * public machine; the breaker's pure transition and its actor both call it) that calls through.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, type MockInstance, test, vi } from 'vitest';
import type { InspectionEvent } from 'xstate';
import { breakerMachine } from '../machines/breaker.machine.js';
import { type SlidingWindow, windowTotals } from '../machines/breaker-rule.js';
import { createHttpBackend } from '../src/backends/http-index.js';
import { createManualClock } from '../src/clock.js';
import { type CircuitBreaker, createCircuitBreaker } from '../src/reliability/breaker.js';
import { json, startServer } from './support/http-server.js';

const failureRate = (window: SlidingWindow, minimumCalls = 4) =>
  ({ kind: 'failureRate', failureRateThreshold: 0.5, minimumCalls, window }) as const;
const ok = () => 'ok';
const boom = () => {
  throw new Error('boom');
};
const totals = (breaker: CircuitBreaker, at: number) => {
  const { context } = breaker.snapshot;
  if (context.rule.kind !== 'failureRate') throw new Error('not the failure-rate rule');
  return windowTotals(context.window, context.rule.window, at);
};

let transitions: MockInstance | undefined;
afterEach(() => {
  transitions?.mockRestore();
  transitions = undefined;
});
/** Counts the machine's transitions from now on (calling through). */
function countTransitions(): MockInstance {
  transitions = vi.spyOn(breakerMachine, 'transition');
  return transitions;
}

describe('batched successes', () => {
  test('a thousand successes are one machine transition, made when the snapshot is read', async () => {
    const clock = createManualClock();
    const window = { kind: 'count', size: 1_000 } as const;
    const breaker = createCircuitBreaker({ clock, rule: failureRate(window) });
    const spy = countTransitions();
    for (let i = 0; i < 500; i++) await breaker.execute(ok);
    for (let i = 0; i < 500; i++) await breaker.execute(async () => 'ok');
    expect(spy).toHaveBeenCalledTimes(0);
    expect(totals(breaker, clock.now())).toEqual({ calls: 1_000, failures: 0 });
    expect(spy).toHaveBeenCalledTimes(1);
    expect(breaker.metrics().totalSuccesses).toBe(1_000);
    breaker.stop();
  });

  test('a time window gets one SUCCESS per time slot, so its buckets stay exact', async () => {
    const clock = createManualClock();
    const window = { kind: 'time', ms: 10_000 } as const; // slots of 1 000 ms
    const breaker = createCircuitBreaker({ clock, rule: failureRate(window) });
    const spy = countTransitions();
    for (let slot = 0; slot < 3; slot++) {
      for (let i = 0; i < 10; i++) await breaker.execute(ok);
      await clock.advance(1_000);
    }
    expect(breaker.snapshot.context.window.map(({ slot, calls }) => [slot, calls])).toEqual([
      [0, 10],
      [1, 10],
      [2, 10],
    ]);
    expect(spy).toHaveBeenCalledTimes(3);
    // Slot 0 leaves the window 10 s after it began: the totals are read at that time.
    await clock.advance(7_000);
    expect(totals(breaker, clock.now())).toEqual({ calls: 20, failures: 0 });
    breaker.stop();
  });

  test('with an actor every success is an event of its own: the inspector sees each', async () => {
    const events: string[] = [];
    const inspect = (event: InspectionEvent) => {
      if (event.type === '@xstate.event' && event.event.type === 'SUCCESS')
        events.push(JSON.stringify(event.event));
    };
    const breaker = createCircuitBreaker({
      clock: createManualClock(),
      inspect,
      rule: failureRate({ kind: 'count', size: 10 }),
    });
    for (let i = 0; i < 5; i++) await breaker.execute(ok);
    expect(events).toHaveLength(5);
    expect(events.every((event) => !event.includes('count'))).toBe(true);
    breaker.stop();
  });
});

describe('every read sees every success', () => {
  test('snapshot, checkpoint, metrics, the actor made later and a stopped breaker', async () => {
    const clock = createManualClock();
    const window = { kind: 'count', size: 100 } as const;
    const breaker = createCircuitBreaker({ clock, rule: failureRate(window, 20) });
    const failThenSucceed = async () => {
      await breaker.execute(boom).catch(() => {});
      await breaker.execute(ok);
    };
    await failThenSucceed();
    expect(breaker.checkpoint().consecutiveFailures).toBe(0);
    await failThenSucceed();
    expect(breaker.metrics().consecutiveFailures).toBe(0);
    await failThenSucceed();
    expect(breaker.snapshot.context.consecutiveFailures).toBe(0);
    expect(totals(breaker, clock.now())).toEqual({ calls: 6, failures: 3 });

    await breaker.execute(ok);
    await breaker.execute(ok);
    const actor = breaker.actor;
    expect(windowTotals(actor.getSnapshot().context.window, window, clock.now())).toEqual({
      calls: 8,
      failures: 3,
    });
    await breaker.execute(ok); // sent to the actor at once
    expect(windowTotals(actor.getSnapshot().context.window, window, clock.now())).toEqual({
      calls: 9,
      failures: 3,
    });
    breaker.stop();

    const stopped = createCircuitBreaker({ clock, rule: failureRate(window) });
    await stopped.execute(ok);
    await stopped.execute(ok);
    stopped.stop();
    expect(totals(stopped, clock.now())).toEqual({ calls: 2, failures: 0 });
  });

  test("an HTTP backend's health shows the success that ended a run of failures", async () => {
    const server = await startServer((_req, res, hit) => {
      if (hit === 1) res.writeHead(500).end('down');
      else json(res, 200, { ok: true });
    });
    const clock = createManualClock();
    const backend = createHttpBackend({
      name: 'api',
      baseUrl: `http://127.0.0.1:${server.port}`,
      clock,
      retry: { maxRetries: 0 },
      throttle: false,
      breaker: { rule: failureRate({ kind: 'count', size: 100 }, 20) },
    });
    await expect(backend.requestJson('/a')).rejects.toThrow();
    expect(backend.status().consecutiveFailures).toBe(1);
    await backend.requestJson('/a');
    expect(backend.status().consecutiveFailures).toBe(0);
    await backend.requestJson('/a');
    expect(totals(backend.breaker, clock.now())).toEqual({ calls: 3, failures: 1 });
    await backend.stop();
  });
});

describe('the same trips as one SUCCESS per call', () => {
  type Step = { kind: 'ok' | 'okAsync' | 'fail' | 'failAsync' } | { kind: 'wait'; ms: number };
  const step: fc.Arbitrary<Step> = fc.oneof(
    fc.constantFrom<Step>({ kind: 'ok' }, { kind: 'okAsync' }, { kind: 'fail' }, { kind: 'failAsync' }),
    fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 1, max: 700 }) }),
  );

  /** Runs `steps` on a breaker; returns its state after each step and the breaker. */
  async function run(steps: Step[], window: SlidingWindow, inspect: (() => void) | undefined) {
    const clock = createManualClock();
    const breaker = createCircuitBreaker({
      clock,
      inspect,
      rule: failureRate(window),
      resetTimeoutMs: 300,
      halfOpenMaxCalls: 1,
      successThreshold: 1,
    });
    // A listener that calls the breaker while a transition is observed: its success must wait its turn.
    breaker.onTransition(({ to }) => {
      if (to === 'CLOSED') void breaker.execute(ok);
    });
    const states: string[] = [];
    for (const s of steps) {
      if (s.kind === 'wait') await clock.advance(s.ms);
      else if (s.kind === 'ok') await breaker.execute(ok).catch(() => {});
      else if (s.kind === 'okAsync') await breaker.execute(async () => 'ok').catch(() => {});
      else if (s.kind === 'fail') await breaker.execute(boom).catch(() => {});
      else await breaker.execute(async () => boom()).catch(() => {});
      states.push(breaker.state);
    }
    return { states, breaker, clock };
  }

  for (const window of [
    { kind: 'count', size: 8 },
    { kind: 'time', ms: 1_000 },
  ] as const) {
    test(`${window.kind} window: state after every call, transitions, metrics and snapshot`, async () => {
      const batched = { trips: 0 };
      await fc.assert(
        fc.asyncProperty(fc.array(step, { maxLength: 80 }), async (steps) => {
          const withActor = await run(steps, window, () => {});
          const pure = await run(steps, window, undefined);
          expect(pure.states).toEqual(withActor.states);
          const oneByOne = withActor.breaker.metrics();
          batched.trips += oneByOne.tripsCount;
          expect(pure.breaker.metrics()).toEqual(oneByOne);
          expect(pure.breaker.snapshot.value).toBe(withActor.breaker.snapshot.value);
          expect(pure.breaker.snapshot.context).toEqual(withActor.breaker.snapshot.context);
          withActor.breaker.stop();
          pure.breaker.stop();
        }),
        { numRuns: 60 },
      );
      expect(batched.trips).toBeGreaterThan(0); // the runs did trip
    });
  }
});
