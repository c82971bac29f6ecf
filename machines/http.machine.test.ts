import { getShortestPaths } from '@xstate/graph';
import { expect, test } from 'vitest';
import {
  type AnyActorLogic,
  type AnyEventObject,
  type AnyMachineSnapshot,
  createActor,
  fromPromise,
  type SnapshotFrom,
} from 'xstate';
import { createManualClock, settle } from '../src/clock.js';
import {
  createTransitionCollector,
  expectFullCoverage,
  transitionAwareKey,
} from '../test/support/transitions.js';
import { type HttpProbeOutput, httpMachine } from './http.machine.js';

/** Threshold 1 makes a first failure DOWN at once; 3 stays DEGRADED once before DOWN: both are needed. */
const inputs = [{ downAfterFailures: 1 }, { downAfterFailures: 3 }];
const PROBE_DONE = 'xstate.done.actor.probe';
const PROBE_ERROR = 'xstate.error.actor.probe';
const probeError = new Error('probe refused');

type Snapshot = SnapshotFrom<typeof httpMachine>;

/** Events the runtime can really cause in each snapshot (probe outcomes only while a probe runs). */
function possibleEvents(snapshot: Snapshot): AnyEventObject[] {
  const { prober } = snapshot.value;
  const events: AnyEventObject[] = [
    { type: 'START' },
    { type: 'STOP' },
    { type: 'PROBE_NOW' },
    { type: 'CALL_SUCCEEDED', latencyMs: 5 },
    { type: 'CALL_FAILED', error: 'HTTP 503' },
    { type: 'BREAKER_OPENED' },
  ];
  if (prober === 'probing') {
    events.push({ type: PROBE_DONE, output: { latencyMs: 7 } }, { type: PROBE_ERROR, error: probeError });
  }
  return events;
}

interface Deferred {
  resolve(value: HttpProbeOutput): void;
  reject(error: unknown): void;
}

/**
 * `transitionAwareKey` names the transitions an event selects, but a probe's outcome is raised by the
 * machine and handled in a later microstep: the same `xstate.done.actor.probe` leads to different
 * availability transitions depending on where it started. Keying on the previous snapshot too gives
 * each of them its own path.
 */
function pathsFor(input: (typeof inputs)[number]) {
  const transitionKey = transitionAwareKey(httpMachine);
  const serializeState = (
    snapshot: AnyMachineSnapshot,
    event: AnyEventObject | undefined,
    previous?: AnyMachineSnapshot,
  ) =>
    `${transitionKey(snapshot, event, previous)}${previous ? ` from ${JSON.stringify({ value: previous.value, context: previous.context })}` : ''}`;
  return getShortestPaths(
    httpMachine as unknown as AnyActorLogic,
    {
      input,
      events: possibleEvents,
      serializeState,
    } as never,
  );
}

test('every transition of the http machine is replayed against an actor', async () => {
  const collector = createTransitionCollector();
  for (const input of inputs) {
    const paths = pathsFor(input);
    expect(paths.length).toBeGreaterThan(20);

    for (const path of paths) {
      const clock = createManualClock();
      const probes: Deferred[] = [];
      const machine = httpMachine.provide({
        actors: {
          probe: fromPromise<HttpProbeOutput>(
            () =>
              new Promise<HttpProbeOutput>((resolve, reject) => {
                probes.push({ resolve, reject });
              }),
          ),
        },
      });
      const actor = createActor(machine, { input, clock, inspect: collector.inspect });
      actor.start();

      for (const step of path.steps) {
        const event = step.event as AnyEventObject;
        if (event.type === 'xstate.init') continue;
        if (event.type === PROBE_DONE) probes.shift()?.resolve(event.output as HttpProbeOutput);
        else if (event.type === PROBE_ERROR) probes.shift()?.reject(event.error);
        else actor.send(event as never);
        await settle();

        const expected = step.state as Snapshot;
        const actual = actor.getSnapshot();
        expect(actual.value, `after ${event.type}`).toEqual(expected.value);
        expect(actual.context, `after ${event.type}`).toEqual(expected.context);
        // The machine has no timer of its own: periodic probes are its owner's (PROBE_NOW).
        expect(clock.pendingTimers()).toBe(0);
        if (actual.value.prober !== 'probing') probes.length = 0;
      }
      actor.stop();
      expect(clock.pendingTimers()).toBe(0);
    }
  }

  expectFullCoverage('http', httpMachine, collector.taken);
});

test('availability rules: one failure degrades, the threshold or an open breaker is DOWN, a success is UP', () => {
  const actor = createActor(httpMachine, { input: { downAfterFailures: 3 } });
  actor.start();
  const availability = () => actor.getSnapshot().value.availability;
  expect(availability()).toBe('UNKNOWN');
  actor.send({ type: 'CALL_SUCCEEDED', latencyMs: 12 });
  expect(availability()).toBe('UP');
  expect(actor.getSnapshot().context.latencyMs).toBe(12);
  actor.send({ type: 'CALL_FAILED', error: 'HTTP 503' });
  expect(availability()).toBe('DEGRADED');
  actor.send({ type: 'CALL_FAILED', error: 'HTTP 503' });
  expect(availability()).toBe('DEGRADED');
  actor.send({ type: 'CALL_FAILED', error: 'timed out' });
  expect(availability()).toBe('DOWN');
  expect(actor.getSnapshot().context).toMatchObject({ consecutiveFailures: 3, lastError: 'timed out' });
  actor.send({ type: 'CALL_FAILED', error: 'again' });
  expect(actor.getSnapshot().context.consecutiveFailures).toBe(3);
  actor.send({ type: 'CALL_SUCCEEDED', latencyMs: 4 });
  expect(availability()).toBe('UP');
  actor.send({ type: 'BREAKER_OPENED' });
  expect(availability()).toBe('DOWN');
  actor.send({ type: 'STOP' });
  actor.send({ type: 'CALL_SUCCEEDED', latencyMs: 1 });
  expect(actor.getSnapshot().value).toEqual({ availability: 'STOPPED', prober: 'stopped' });
  actor.stop();
});

test('a failed probe of a backend never seen answering is DOWN at once, not DEGRADED', () => {
  const actor = createActor(httpMachine, { input: { downAfterFailures: 3 } });
  actor.start();
  actor.send({ type: 'PROBE_FAILED', error: 'connection refused' });
  expect(actor.getSnapshot().value.availability).toBe('DOWN');
  actor.stop();
});
