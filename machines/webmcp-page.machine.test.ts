import { expect, test } from 'vitest';
import { type AnyEventObject, createActor, fromPromise, type SnapshotFrom } from 'xstate';
import { createManualClock, settle } from '../src/clock.js';
import {
  createTransitionCollector,
  expectFullCoverage,
  transitionPaths,
} from '../test/support/transitions.js';
import {
  reattachDelay,
  reattachExponentCap,
  type WebMcpPageAttachOutput,
  webMcpPageMachine,
} from './webmcp-page.machine.js';

const input = { attachTimeoutMs: 1_000, reloadWaitMs: 2_000, baseDelayMs: 100, maxDelayMs: 400 };
const AFTER_ATTACH_TIMEOUT = 'xstate.after.attachTimeout.webmcpPage.ATTACHING';
const AFTER_RELOAD_WAIT = 'xstate.after.reloadWait.webmcpPage.RELOADING';
const AFTER_BACKOFF = 'xstate.after.reattachBackoff.webmcpPage.DETACHED';
const ATTACH_DONE = 'xstate.done.actor.attach';
const ATTACH_ERROR = 'xstate.error.actor.attach';
const attachError = new Error('connect ECONNREFUSED 127.0.0.1:9222');

type Snapshot = SnapshotFrom<typeof webMcpPageMachine>;

/** Events the runtime can really cause in each state (attach outcomes only while attaching, …). */
function possibleEvents(snapshot: Snapshot): AnyEventObject[] {
  const events: AnyEventObject[] = [
    { type: 'START' },
    { type: 'STOP' },
    { type: 'RESUME' },
    { type: 'NAVIGATED' },
    { type: 'TOOLS_CHANGED', count: 0 },
    { type: 'TOOLS_CHANGED', count: 2 },
    { type: 'LOST', reason: 'the tab was closed' },
    { type: 'BREAKER_OPEN' },
    { type: 'BREAKER_HALF_OPEN' },
    { type: 'BREAKER_CLOSED' },
  ];
  switch (snapshot.value) {
    case 'ATTACHING':
      events.push(
        { type: ATTACH_DONE, output: { toolCount: 2 } },
        { type: ATTACH_DONE, output: { toolCount: 0 } },
        { type: ATTACH_ERROR, error: attachError },
        { type: AFTER_ATTACH_TIMEOUT },
      );
      break;
    case 'RELOADING':
      events.push({ type: AFTER_RELOAD_WAIT });
      break;
    case 'DETACHED':
      events.push({ type: AFTER_BACKOFF });
      break;
  }
  return events;
}

interface Deferred {
  resolve(value: WebMcpPageAttachOutput): void;
  reject(error: unknown): void;
}

/** The machine's own timers: one per state that waits. */
const timersIn: Partial<Record<string, number>> = { ATTACHING: 1, RELOADING: 1, DETACHED: 1 };

test('every transition of the webmcp-page machine is replayed against an actor', async () => {
  const collector = createTransitionCollector();
  const paths = transitionPaths(webMcpPageMachine, { input, events: possibleEvents as never });
  expect(paths.length).toBeGreaterThan(19);

  for (const path of paths) {
    const clock = createManualClock();
    const attaches: Deferred[] = [];
    const io: string[] = [];
    const machine = webMcpPageMachine.provide({
      actors: {
        attach: fromPromise<WebMcpPageAttachOutput>(
          () => new Promise<WebMcpPageAttachOutput>((resolve, reject) => attaches.push({ resolve, reject })),
        ),
      },
      actions: {
        releasePage: () => io.push('releasePage'),
        disconnect: () => io.push('disconnect'),
      },
    });
    const actor = createActor(machine, { input, clock, inspect: collector.inspect });
    actor.start();

    for (const step of path.steps) {
      const event = step.event as AnyEventObject;
      if (event.type === 'xstate.init') continue;
      const before = actor.getSnapshot();
      if (event.type === AFTER_ATTACH_TIMEOUT) await clock.advance(input.attachTimeoutMs);
      else if (event.type === AFTER_RELOAD_WAIT) await clock.advance(input.reloadWaitMs);
      else if (event.type === AFTER_BACKOFF) await clock.advance(before.context.nextDelayMs);
      else if (event.type === ATTACH_DONE) attaches.shift()?.resolve(event.output as WebMcpPageAttachOutput);
      else if (event.type === ATTACH_ERROR) attaches.shift()?.reject(event.error);
      else actor.send(event as never);
      await settle();

      const expected = step.state as Snapshot;
      const actual = actor.getSnapshot();
      expect(actual.value, `after ${event.type}`).toEqual(expected.value);
      expect(actual.context, `after ${event.type}`).toEqual(expected.context);
      // Exactly the waiting states hold a timer; an attach runs exactly while ATTACHING.
      expect(clock.pendingTimers(), `timers in ${actual.value}`).toBe(timersIn[actual.value] ?? 0);
      if (actual.value !== 'ATTACHING') attaches.length = 0;
    }
    if (actor.getSnapshot().value === 'CLOSED') expect(io.slice(-2)).toEqual(['releasePage', 'disconnect']);
    actor.stop();
    expect(clock.pendingTimers()).toBe(0);
  }

  expectFullCoverage('webmcp-page', webMcpPageMachine, collector.taken);
});

test('a lost tab re-attaches with growing, capped backoff; a good attach starts it over', async () => {
  const clock = createManualClock();
  let outcome: 'fail' | 'tools' = 'fail';
  const machine = webMcpPageMachine.provide({
    actors: {
      attach: fromPromise<WebMcpPageAttachOutput>(async () => {
        if (outcome === 'fail') throw new Error('browser gone');
        return { toolCount: 3 };
      }),
    },
  });
  const actor = createActor(machine, { input, clock });
  actor.start();
  actor.send({ type: 'START' });
  await settle();
  expect(actor.getSnapshot().value).toBe('DETACHED');
  expect(actor.getSnapshot().context.lastError).toBe('attach failed: browser gone');
  const delays: number[] = [];
  for (let i = 0; i < 4; i += 1) {
    delays.push(actor.getSnapshot().context.nextDelayMs);
    await clock.advance(actor.getSnapshot().context.nextDelayMs);
    await settle();
  }
  expect(delays).toEqual([0, 1, 2, 2].map((k) => reattachDelay(k, input, () => 0.5)));
  expect(reattachExponentCap(input.baseDelayMs, input.maxDelayMs)).toBe(2);
  outcome = 'tools';
  await clock.advance(actor.getSnapshot().context.nextDelayMs);
  await settle();
  expect(actor.getSnapshot().value).toBe('READY');
  expect(actor.getSnapshot().context).toMatchObject({ attempt: 0, hasAttached: true, lastError: null });
  actor.send({ type: 'NAVIGATED' });
  expect(actor.getSnapshot().value).toBe('RELOADING');
  actor.send({ type: 'TOOLS_CHANGED', count: 0 });
  expect(actor.getSnapshot().value).toBe('RELOADING');
  actor.send({ type: 'TOOLS_CHANGED', count: 3 });
  expect(actor.getSnapshot().value).toBe('READY');
  actor.stop();
});
