import { expect, test } from 'vitest';
import type { AnyEventObject } from 'xstate';
import { type BreakerContext, breakerMachine } from '../machines/breaker.machine.js';
import { createManualClock, settle } from '../src/clock.js';
import { type BreakerCheckpoint, createCircuitBreaker } from '../src/reliability/breaker.js';
import { createTransitionCollector, expectFullCoverage, transitionPaths } from './support/transitions.js';

const input = { failureThreshold: 2, resetTimeoutMs: 1_000, halfOpenMaxCalls: 2, successThreshold: 2 };
/** The failure-rate rule, small enough to explore: ≥ 2/3 failed of the last 3 calls, 3 calls at least. */
const failureRate = {
  kind: 'failureRate',
  failureRateThreshold: 0.6,
  minimumCalls: 3,
  window: { kind: 'count', size: 3 },
} as const;
const AFTER_RESET_TIMEOUT = 'xstate.after.resetTimeout.breaker.OPEN';
const HOLD_MS = 5_000;

interface Deferred {
  resolve(value: string): void;
  reject(error: Error): void;
  /** Aborts the trial's caller: its outcome becomes a cancellation. */
  abort(): void;
}

const events: AnyEventObject[] = [
  { type: 'SUCCESS' },
  { type: 'FAILURE' },
  { type: 'TRIAL_START' },
  { type: 'TRIAL_SUCCESS' },
  { type: 'TRIAL_FAILURE' },
  { type: 'TRIAL_CANCELLED' },
  { type: 'HOLD_OPEN', durationMs: HOLD_MS },
  { type: 'RESET' },
  { type: AFTER_RESET_TIMEOUT },
];

/**
 * Events that move a CLOSED breaker. Under the failure-rate rule the breaker sends the successes of
 * several calls as one SUCCESS with a `count`: the model sends both (the replay makes `count` calls),
 * 4 being more than the window holds.
 */
const closedEvents = [
  ...events.filter((event) => ['SUCCESS', 'FAILURE', 'RESET'].includes(event.type)),
  { type: 'SUCCESS', count: 2 },
  { type: 'SUCCESS', count: 4 },
];

/**
 * Where the replayed breakers start: fresh, and restored (`createCircuitBreaker({ restore })`, the
 * machine's `resume` input) into each state, OPEN both before and past its deadline. The clock starts
 * at 0, the `now` of every resume point.
 */
const starts: { label: string; restore?: BreakerCheckpoint; rule?: typeof failureRate }[] = [
  { label: 'fresh' },
  { label: 'fresh, failure-rate rule', rule: failureRate },
  {
    label: 'restored CLOSED',
    restore: { state: 'CLOSED', consecutiveFailures: 1, openedAt: null, reopensAt: null },
  },
  {
    label: 'restored OPEN',
    restore: { state: 'OPEN', consecutiveFailures: 2, openedAt: -500, reopensAt: 500 },
  },
  {
    label: 'restored OPEN, deadline past',
    restore: { state: 'OPEN', consecutiveFailures: 2, openedAt: -2_000, reopensAt: -1_000 },
  },
  {
    label: 'restored HALF_OPEN',
    restore: { state: 'HALF_OPEN', consecutiveFailures: 2, openedAt: -2_000, reopensAt: null },
  },
];

/**
 * How each path is replayed: with the actor from the start (`inspect`: the coverage is collected from
 * its inspection events), with no actor at all (pure transitions), and with the actor made just
 * before the path's last step (it takes over the snapshot and the pending timer).
 */
const modes = ['actor', 'pure', 'actor made before the last step'] as const;

/** Clock stamps differ between the model (events carry no time) and the runtime: compared apart. */
function withoutStamps(context: BreakerContext) {
  const { openedAt, reopensAt, ...rest } = context;
  return { ...rest, opened: openedAt !== null, deadline: reopensAt !== null };
}

test('every transition of the breaker machine is replayed against createCircuitBreaker', async () => {
  const collector = createTransitionCollector();
  let replayed = 0;
  for (const start of starts) {
    const paths = transitionPaths(breakerMachine, {
      input: {
        ...input,
        ...(start.restore ? { resume: { ...start.restore, now: 0 } } : {}),
        ...(start.rule ? { rule: start.rule } : {}),
      },
      // The failure-rate rule differs only in CLOSED (HALF_OPEN and OPEN are explored with the default).
      events: start.rule ? closedEvents : events,
      // Failed trials keep counting consecutive failures; one more than a trip is enough to explore.
      stopWhen: (snapshot) =>
        snapshot.context.consecutiveFailures > input.failureThreshold + 1 ||
        (start.rule !== undefined && snapshot.value !== 'CLOSED'),
    });
    expect(paths.length, start.label).toBeGreaterThan(10);
    console.log(`breaker: ${start.label}: ${paths.length} paths`);
    replayed += paths.length;

    for (const path of paths) {
      for (const mode of modes) await replay(path.steps, mode, start, collector);
    }
  }
  console.log(`breaker: replayed ${replayed} paths, ${modes.length} ways each`);

  expectFullCoverage('breaker', breakerMachine, collector.taken);
});

type Step = { event: AnyEventObject; state: { value: unknown; context: BreakerContext } };

/** Replays one path's steps against a breaker run in `mode`, checking it against the model after each. */
async function replay(
  steps: Step[],
  mode: (typeof modes)[number],
  start: (typeof starts)[number],
  collector: ReturnType<typeof createTransitionCollector>,
) {
  const clock = createManualClock();
  const breaker = createCircuitBreaker({
    ...input,
    clock,
    ...(mode === 'actor' ? { inspect: collector.inspect } : {}),
    ...(start.restore ? { restore: start.restore } : {}),
    ...(start.rule ? { rule: start.rule } : {}),
  });
  let trials: Deferred[] = [];
  let period = breaker.state;
  let finished = 0;
  const track = (promise: Promise<unknown>) =>
    promise.then(
      () => finished++,
      () => finished++,
    );

  for (const [index, step] of steps.entries()) {
    const type = step.event.type;
    if (mode === 'actor made before the last step' && index === steps.length - 1) void breaker.actor;
    if (type === 'xstate.init') continue;
    if (type === 'SUCCESS') {
      for (let call = 0; call < (step.event.count ?? 1); call++) await track(breaker.execute(() => 'ok'));
    } else if (type === 'FAILURE') {
      await track(
        breaker.execute(() => {
          throw new Error('boom');
        }),
      );
    } else if (type === 'TRIAL_START') {
      const caller = new AbortController();
      const admitted = breaker.execute(
        () =>
          new Promise<string>((resolve, reject) => {
            trials.push({ resolve, reject, abort: () => caller.abort('caller left') });
          }),
        { signal: caller.signal },
      );
      void track(admitted);
    } else if (type === 'TRIAL_SUCCESS') trials.shift()?.resolve('ok');
    else if (type === 'TRIAL_FAILURE') trials.shift()?.reject(new Error('trial failed'));
    else if (type === 'TRIAL_CANCELLED') {
      const trial = trials.shift();
      trial?.abort();
      trial?.resolve('too late');
    } else if (type === 'HOLD_OPEN') breaker.holdOpen(HOLD_MS);
    else if (type === 'RESET') breaker.reset();
    else if (type === AFTER_RESET_TIMEOUT) expect(await clock.next()).toBe(true);
    else throw new Error(`unmapped event ${type}`);
    await settle();

    if (breaker.state !== period) {
      trials = []; // calls admitted in an earlier period no longer move the machine
      period = breaker.state;
    }
    const expected = step.state;
    const actual = breaker.snapshot;
    expect(actual.value, `${mode}: after ${type}`).toBe(expected.value);
    expect(withoutStamps(actual.context)).toEqual(withoutStamps(expected.context));
    if (mode !== 'pure' && (mode === 'actor' || index === steps.length - 1))
      expect(breaker.actor.getSnapshot()).toMatchObject({ value: actual.value, context: actual.context });
    const metrics = breaker.metrics();
    expect(metrics.state).toBe(expected.value);
    expect(metrics.consecutiveFailures).toBe(expected.context.consecutiveFailures);
    expect(
      metrics.totalSuccesses + metrics.totalFailures + metrics.rejectedCalls + metrics.cancelledCalls,
    ).toBe(finished);
    if (metrics.transitions.length > 0) expect(metrics.transitions.at(-1)?.to).toBe(expected.value);
    expect(breaker.canAdmit()).toBe(
      expected.value === 'CLOSED' ||
        (expected.value === 'HALF_OPEN' && expected.context.trialsInFlight < input.halfOpenMaxCalls),
    );
    expect(clock.pendingTimers()).toBe(expected.value === 'OPEN' ? 1 : 0);
  }
  breaker.stop();
  expect(clock.pendingTimers()).toBe(0);
}
