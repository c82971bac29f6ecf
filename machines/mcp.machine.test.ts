import { expect, test } from 'vitest';
import { type AnyEventObject, type AnyMachineSnapshot, createActor, type SnapshotFrom } from 'xstate';
import { createManualClock, settle } from '../src/clock.js';
import {
  createTransitionCollector,
  expectFullCoverage,
  transitionPaths,
} from '../test/support/transitions.js';
import { MAX_CRASH_COUNT, mcpMachine, restartDelay } from './mcp.machine.js';

const input = { minUptimeMs: 1_000, baseDelayMs: 100, maxDelayMs: 1_600, jitter: 1 };
const AFTER_BACKOFF = 'xstate.after.restartBackoff.mcp.RESTARTING';
type Snapshot = SnapshotFrom<typeof mcpMachine>;

/**
 * Events the runtime can cause. Times are fixed so the context stays finite: a FAULT 10 ms after
 * CONNECTED is a crash, one 5 000 ms after it is a run that outlived `minUptimeMs`.
 */
function possibleEvents(snapshot: AnyMachineSnapshot): AnyEventObject[] {
  const events: AnyEventObject[] = [
    { type: 'START' },
    { type: 'STOP' },
    { type: 'CONNECTED', at: 1_000 },
    { type: 'INITIALIZED' },
    { type: 'FAULT', at: 1_010, random: 0.5, error: 'exited with code 1' },
    { type: 'FAULT', at: 6_000, random: 0.5, error: 'killed by SIGKILL' },
    { type: 'BREAKER_OPENED' },
    { type: 'BREAKER_CLOSED' },
  ];
  if ((snapshot as Snapshot).value === 'RESTARTING') events.push({ type: AFTER_BACKOFF });
  return events;
}

test('every transition of the mcp machine is replayed against an actor', async () => {
  const collector = createTransitionCollector();
  const paths = transitionPaths(mcpMachine, {
    input,
    events: possibleEvents,
    stopWhen: (snapshot) => (snapshot as Snapshot).context.crashCount > 2,
  });
  expect(paths.length).toBeGreaterThan(20);
  for (const path of paths) {
    const clock = createManualClock();
    const actor = createActor(mcpMachine, { input, clock, inspect: collector.inspect });
    actor.start();
    for (const step of path.steps) {
      const event = step.event as AnyEventObject;
      if (event.type === 'xstate.init') continue;
      if (event.type === AFTER_BACKOFF) await clock.advance(actor.getSnapshot().context.restartDelayMs);
      else actor.send(event as never);
      await settle();
      const expected = step.state as Snapshot;
      const actual = actor.getSnapshot();
      expect(actual.value, `after ${event.type}`).toEqual(expected.value);
      expect(actual.context, `after ${event.type}`).toEqual(expected.context);
      // The backoff timer runs exactly while RESTARTING.
      expect(clock.pendingTimers()).toBe(actual.value === 'RESTARTING' ? 1 : 0);
    }
    actor.stop();
    expect(clock.pendingTimers()).toBe(0);
  }
  expectFullCoverage('mcp', mcpMachine, collector.taken);
});

test('a crash loop backs off more and more; a run longer than minUptime restarts quickly', async () => {
  const clock = createManualClock();
  const actor = createActor(mcpMachine, { input: { ...input, jitter: 0 }, clock });
  actor.start();
  actor.send({ type: 'START' });
  const delays: number[] = [];
  let at = 0;
  for (let i = 0; i < 6; i++) {
    actor.send({ type: 'CONNECTED', at });
    actor.send({ type: 'FAULT', at: at + 10, random: 0.3, error: 'exit 1' });
    delays.push(actor.getSnapshot().context.restartDelayMs);
    at += 10_000;
    await clock.advance(delays[i] ?? 0);
    expect(actor.getSnapshot().value).toBe('CONNECTING');
  }
  expect(delays).toEqual([200, 400, 800, 1_600, 1_600, 1_600]);
  actor.send({ type: 'CONNECTED', at });
  actor.send({ type: 'INITIALIZED' });
  expect(actor.getSnapshot().value).toBe('READY');
  actor.send({ type: 'FAULT', at: at + 5_000, random: 0.3, error: 'killed' });
  expect(actor.getSnapshot().context).toMatchObject({ crashCount: 0, restartDelayMs: 100 });
  actor.stop();
});

test('restartDelay: full jitter draws within [0, cap]; the crash count is capped', () => {
  expect(restartDelay(input, 0, 0)).toBe(100);
  expect(restartDelay(input, 3, 0.5)).toBe(400);
  expect(restartDelay(input, 10, 0)).toBe(1_600);
  expect(restartDelay({ ...input, jitter: 0.5 }, 1, 0.999)).toBeGreaterThan(100);
  expect(MAX_CRASH_COUNT).toBeGreaterThan(10);
});

test('a restart that ends while the breaker is OPEN lands in SUSPENDED', () => {
  const actor = createActor(mcpMachine, { input });
  actor.start();
  actor.send({ type: 'START' });
  actor.send({ type: 'CONNECTED', at: 0 });
  actor.send({ type: 'BREAKER_OPENED' });
  actor.send({ type: 'INITIALIZED' });
  expect(actor.getSnapshot().value).toBe('SUSPENDED');
  actor.send({ type: 'BREAKER_CLOSED' });
  expect(actor.getSnapshot().value).toBe('READY');
  actor.send({ type: 'STOP' });
  actor.send({ type: 'START' });
  expect(actor.getSnapshot().value).toBe('CLOSED');
  actor.stop();
});
