import { expect, test } from 'vitest';
import { type AnyEventObject, createActor, fromPromise, type SnapshotFrom } from 'xstate';
import { createManualClock, settle } from '../src/clock.js';
import {
  createTransitionCollector,
  expectFullCoverage,
  transitionPaths,
} from '../test/support/transitions.js';
import {
  type BackendHealth,
  type BridgeMachineInput,
  bridgeMachine,
  type ProbeBackendsOutput,
} from './bridge.machine.js';

type Snapshot = SnapshotFrom<typeof bridgeMachine>;

const line = (overrides: Partial<BackendHealth>): BackendHealth => ({
  kind: 'websocket',
  status: 'warn',
  state: 'IDLE',
  breaker: 'CLOSED',
  consecutiveFailures: 0,
  lastCheckAt: null,
  lastSuccessAt: null,
  lastError: null,
  lastErrorAt: null,
  latencyMs: null,
  critical: false,
  ...overrides,
});

const surface = line({ kind: 'webmcp', state: 'NOT_SERVING' });
const input: BridgeMachineInput = {
  backends: { a: line({}), webmcp: surface },
  linked: ['a'],
  healthCheckIntervalMs: 1_000,
  healthCheckJitter: 0.1,
  // Longer than any replayed path's time, so the model's explicit HEALTH_SETTLED is the only one.
  healthSettleMs: 60_000,
};
const failed = line({ status: 'fail', state: 'RECONNECTING', lastError: 'boom' });
const connected = line({ status: 'pass', state: 'CONNECTED' });
const connectedSlower = line({ status: 'pass', state: 'CONNECTED', latencyMs: 12 });
const AFTER_CHECK = 'xstate.after.healthCheck.bridge.running.waiting';
const PROBE_DONE = 'xstate.done.actor.probeBackends';
const PROBE_ERROR = 'xstate.error.actor.probeBackends';
const STOP_DONE = 'xstate.done.actor.stopBackends';
const STOP_ERROR = 'xstate.error.actor.stopBackends';
const AT = '2026-01-01T00:00:00.000Z';

function possibleEvents(snapshot: Snapshot): AnyEventObject[] {
  if (snapshot.status === 'done') return [];
  // Once the backend failed (only from idle, below), explore the settle transitions alone.
  if (snapshot.context.backends.a?.lastError !== null)
    return [
      { type: 'BACKEND_CHANGED', name: 'a', health: connected },
      { type: 'BACKEND_CHANGED', name: 'a', health: connectedSlower },
      { type: 'BACKEND_CHANGED', name: 'a', health: failed },
      { type: 'HEALTH_SETTLED', name: 'a' },
    ];
  const events: AnyEventObject[] = [
    { type: 'BACKEND_CHANGED', name: 'a', health: connected },
    { type: 'BACKEND_CHANGED', name: 'a', health: connectedSlower },
    { type: 'SURFACE_CHANGED', surface: 'mcp', up: true, at: AT },
    { type: 'SURFACE_CHANGED', surface: 'mcp', up: false, at: AT },
    { type: 'BACKEND_ADDED', name: 'b', health: line({ kind: 'mcp' }) },
    { type: 'BACKEND_REMOVED', name: 'a' },
  ];
  const value = snapshot.value;
  // The settle transitions are the root's, the same in every state: explored from idle only.
  if (value === 'idle')
    events.push(
      { type: 'BACKEND_CHANGED', name: 'a', health: failed },
      { type: 'HEALTH_SETTLED', name: 'a' },
    );
  if (value === 'idle') events.push({ type: 'START', draw: 0.75 }, { type: 'STOP' });
  if (value === 'stopping')
    events.push({ type: STOP_DONE, output: undefined }, { type: STOP_ERROR, error: new Error('x') });
  if (typeof value === 'object') {
    events.push({ type: 'STOP' });
    if (value.running === 'waiting') events.push({ type: AFTER_CHECK }, { type: 'CHECK_NOW' });
    if (value.running === 'checking')
      events.push(
        { type: PROBE_DONE, output: { draw: 0.25 } },
        { type: PROBE_ERROR, error: new Error('probe') },
      );
  }
  return events;
}

interface Deferred<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
}

test('every transition of the bridge machine is replayed against an actor', async () => {
  const collector = createTransitionCollector();
  const paths = transitionPaths(bridgeMachine, {
    input,
    events: possibleEvents as never,
    stopWhen: (snapshot) => (snapshot as Snapshot).context.revision >= 3,
  });
  expect(paths.length).toBeGreaterThan(10);
  console.log(`bridge: ${paths.length} paths`);

  for (const path of paths) {
    const clock = createManualClock();
    const probes: Deferred<ProbeBackendsOutput>[] = [];
    const stops: Deferred<void>[] = [];
    const machine = bridgeMachine.provide({
      actors: {
        probeBackends: fromPromise<ProbeBackendsOutput>(
          () => new Promise((resolve, reject) => probes.push({ resolve, reject })),
        ),
        stopBackends: fromPromise<void>(
          () => new Promise((resolve, reject) => stops.push({ resolve, reject })),
        ),
      },
    });
    const actor = createActor(machine, { input, clock, inspect: collector.inspect });
    actor.start();
    expect(actor.system.get('backend:a')).toBeDefined();

    let previous = actor.getSnapshot();
    for (const step of path.steps) {
      const event = step.event as AnyEventObject;
      if (event.type === 'xstate.init') continue;
      const { healthCheckIntervalMs, healthCheckJitter, nextDraw } = previous.context;
      if (event.type === AFTER_CHECK)
        await clock.advance(healthCheckIntervalMs * (1 + healthCheckJitter * (2 * nextDraw - 1)));
      else if (event.type === PROBE_DONE) probes.shift()?.resolve(event.output as ProbeBackendsOutput);
      else if (event.type === PROBE_ERROR) probes.shift()?.reject(event.error);
      else if (event.type === STOP_DONE) stops.shift()?.resolve();
      else if (event.type === STOP_ERROR) stops.shift()?.reject(event.error);
      else actor.send(event as never);
      await settle();

      const expected = step.state as Snapshot;
      const actual = actor.getSnapshot();
      expect(actual.value, `after ${event.type}`).toEqual(expected.value);
      expect(actual.context, `after ${event.type}`).toEqual(expected.context);
      // The health-check timer runs exactly while waiting; one settle timer per pending recovery.
      const waiting = typeof actual.value === 'object' && actual.value.running === 'waiting';
      const settling = actual.status === 'active' ? Object.keys(actual.context.recovering).length : 0;
      expect(clock.pendingTimers()).toBe((waiting ? 1 : 0) + settling);
      previous = actual;
    }
    actor.stop();
    expect(clock.pendingTimers()).toBe(0);
  }

  expectFullCoverage('bridge', bridgeMachine, collector.taken);
});

test('the wait between checks is the interval spread by the draw (±10 %)', async () => {
  const clock = createManualClock();
  let checks = 0;
  const draws = [0, 0.999];
  const machine = bridgeMachine.provide({
    actors: {
      probeBackends: fromPromise<ProbeBackendsOutput>(async () => {
        checks++;
        return { draw: draws[checks % 2] as number };
      }),
    },
  });
  const actor = createActor(machine, { input, clock });
  actor.start();
  actor.send({ type: 'START', draw: 0 }); // first wait 900 ms
  await clock.advance(899);
  expect(checks).toBe(0);
  await clock.advance(1);
  expect(checks).toBe(1); // next draw 0.999: ~1 100 ms
  await clock.advance(1_099);
  expect(checks).toBe(1);
  await clock.advance(1);
  expect(checks).toBe(2);
  actor.stop();
});

test('only status, state or breaker changes bump the revision; surfaces drive the webmcp line', () => {
  const actor = createActor(bridgeMachine, { input });
  actor.start();
  const ctx = () => actor.getSnapshot().context;
  actor.send({ type: 'BACKEND_CHANGED', name: 'a', health: connected });
  expect(ctx().revision).toBe(1);
  actor.send({ type: 'BACKEND_CHANGED', name: 'a', health: connectedSlower });
  expect(ctx().revision).toBe(1);
  expect(ctx().backends.a?.latencyMs).toBe(12);
  actor.send({ type: 'BACKEND_CHANGED', name: 'a', health: { ...connected, breaker: 'HALF_OPEN' } });
  expect(ctx().revision).toBe(2);
  actor.send({ type: 'SURFACE_CHANGED', surface: 'mcp', up: true, at: AT });
  expect(ctx().backends.webmcp).toMatchObject({ status: 'pass', state: 'SERVING', lastSuccessAt: AT });
  expect(ctx().revision).toBe(3);
  actor.send({ type: 'SURFACE_CHANGED', surface: 'webmcp', up: true, at: AT });
  actor.send({ type: 'SURFACE_CHANGED', surface: 'mcp', up: false, at: AT });
  expect(ctx().backends.webmcp?.status).toBe('pass');
  expect(ctx().revision).toBe(3);
  actor.send({ type: 'SURFACE_CHANGED', surface: 'webmcp', up: false, at: AT });
  expect(ctx().backends.webmcp).toMatchObject({ status: 'warn', state: 'NOT_SERVING' });
  expect(ctx().revision).toBe(4);
  actor.stop();
});

test('hot reload: BACKEND_ADDED spawns a link and adds the line; BACKEND_REMOVED stops it and drops it', () => {
  const actor = createActor(bridgeMachine, { input });
  actor.start();
  const ctx = () => actor.getSnapshot().context;
  actor.send({ type: 'BACKEND_ADDED', name: 'b', health: line({ kind: 'mcp' }) });
  expect(actor.getSnapshot().children['backend:b']).toBeDefined();
  expect(ctx().linked).toEqual(['a', 'b']);
  expect(ctx().backends.b?.kind).toBe('mcp');
  expect(ctx().revision).toBe(1);
  actor.send({ type: 'BACKEND_ADDED', name: 'b', health: line({}) }); // known: ignored
  expect(ctx().revision).toBe(1);
  actor.send({ type: 'BACKEND_REMOVED', name: 'a' });
  expect(actor.system.get('backend:a')).toBeUndefined();
  expect(actor.getSnapshot().children['backend:a']).toBeUndefined();
  expect(Object.keys(ctx().backends).sort()).toEqual(['b', 'webmcp']);
  expect(ctx().revision).toBe(2);
  // A late change of a removed backend does not bring its line back.
  actor.send({ type: 'BACKEND_CHANGED', name: 'a', health: connected });
  expect(ctx().backends.a).toBeUndefined();
  // Removed, then added again under the same name (a restart with new settings).
  actor.send({ type: 'BACKEND_ADDED', name: 'a', health: line({ kind: 'http' }) });
  expect(actor.getSnapshot().children['backend:a']).toBeDefined();
  expect(ctx().backends.a?.kind).toBe('http');
  actor.stop();
});

test('machines/ imports nothing but xstate (the published ./machines entry needs no src/)', async () => {
  const { readdirSync, readFileSync } = await import('node:fs');
  const dir = new URL('.', import.meta.url);
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))) {
    const text = readFileSync(new URL(file, dir), 'utf8');
    const specifiers = [...text.matchAll(/from '([^']+)'/g)].map((m) => m[1] as string);
    for (const specifier of specifiers)
      expect(specifier === 'xstate' || specifier.startsWith('./'), `${file} imports ${specifier}`).toBe(true);
  }
});

test('health fails fast and recovers slowly: a backend flapping every 200 ms for 60 s', async () => {
  const flap = async (healthSettleMs: number) => {
    const clock = createManualClock();
    const actor = createActor(bridgeMachine, { input: { ...input, healthSettleMs }, clock });
    actor.start();
    actor.send({ type: 'BACKEND_CHANGED', name: 'a', health: connected, at: 0 });
    const start = actor.getSnapshot().context.revision;
    for (let t = 0; t < 60_000; t += 200) {
      const up = (t / 200) % 2 === 1;
      actor.send({ type: 'BACKEND_CHANGED', name: 'a', health: up ? connected : failed, at: clock.now() });
      await clock.advance(200);
    }
    const changes = actor.getSnapshot().context.revision - start;
    const last = actor.getSnapshot().context.backends.a;
    actor.stop();
    return { changes, last };
  };
  // With no settle time (today's behaviour) every flap is a health change: 300 of them.
  expect((await flap(0)).changes).toBeGreaterThanOrEqual(299);
  // With 2 s: the first failure, then the line stays degraded (at most one change per settle window).
  const settled = await flap(2_000);
  expect(settled.changes).toBeLessThanOrEqual(60_000 / 2_000);
  expect(settled.changes).toBe(1);

  // It recovers once it stays healthy for the settle time, and shows the pending recovery meanwhile.
  const clock = createManualClock();
  const actor = createActor(bridgeMachine, { input: { ...input, healthSettleMs: 2_000 }, clock });
  actor.start();
  actor.send({ type: 'BACKEND_CHANGED', name: 'a', health: failed, at: 0 });
  actor.send({ type: 'BACKEND_CHANGED', name: 'a', health: connected, at: 0 });
  expect(actor.getSnapshot().context.backends.a).toMatchObject({
    status: 'fail',
    recoveringUntil: new Date(2_000).toISOString(),
  });
  actor.send({ type: 'BACKEND_CHANGED', name: 'a', health: connectedSlower, at: 500 });
  await clock.advance(1_999);
  expect(actor.getSnapshot().context.backends.a?.status).toBe('fail');
  await clock.advance(1);
  expect(actor.getSnapshot().context.backends.a).toMatchObject({ status: 'pass', latencyMs: 12 });
  expect(actor.getSnapshot().context.backends.a?.recoveringUntil).toBeUndefined();
  expect(actor.getSnapshot().context.recovering).toEqual({});
  actor.stop();
});
