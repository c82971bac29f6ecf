/*
 * A breaker runs its machine without an XState actor (the snapshot advanced by pure transitions, its
 * delayed events on the injected clock) and makes the actor only when `breaker.actor` is read; from
 * then on the actor holds the state and the timers. The backends follow their breakers through
 * `onTransition` and `snapshot`, so a bridge makes no breaker actor at all.
 *
 * "No actor" is observed with a spy on XState's `Actor.prototype.start` that calls through (every
 * actor still runs): it only records which actors were started.
 */
import { afterEach, beforeEach, describe, expect, type MockInstance, test, vi } from 'vitest';
import { Actor, type AnyActorLogic } from 'xstate';
import { breakerMachine } from '../machines/breaker.machine.js';
import { createSocketBackend, type SocketBackend } from '../src/backends/socket.js';
import { createBridge } from '../src/bridge/create-bridge.js';
import type { Bridge } from '../src/bridge/types.js';
import { createManualClock } from '../src/clock.js';
import { type CircuitBreaker, createCircuitBreaker } from '../src/reliability/breaker.js';
import { labConfig, type SocketLab, startLlmLab, startSocketLab, until } from './bridge-fixtures.js';
import { freePort } from './support/net.js';

const fail = () => Promise.reject(new Error('backend down'));
const succeed = () => Promise.resolve('ok');

async function trip(breaker: CircuitBreaker, times = 1) {
  for (let i = 0; i < times; i++) await breaker.execute(fail).catch(() => {});
}

let started: MockInstance;
/** Breaker actors started since the test began. */
const breakerActors = () =>
  started.mock.contexts.filter((actor) => (actor as Actor<AnyActorLogic>).logic === breakerMachine).length;

beforeEach(() => {
  started = vi.spyOn(Actor.prototype, 'start');
});
afterEach(() => {
  started.mockRestore();
});

describe('a breaker without an actor', () => {
  test('trips, reopens by its clock timer and closes with no XState actor', async () => {
    const clock = createManualClock();
    const breaker = createCircuitBreaker({ clock, failureThreshold: 2, resetTimeoutMs: 1_000 });
    await trip(breaker, 2);
    expect(breaker.state).toBe('OPEN');
    expect(clock.pendingTimers()).toBe(1);
    await clock.advance(999);
    expect(breaker.state).toBe('OPEN');
    await clock.advance(1);
    expect(breaker.state).toBe('HALF_OPEN');
    expect(clock.pendingTimers()).toBe(0);
    await breaker.execute(succeed);
    await breaker.execute(succeed);
    expect(breaker.state).toBe('CLOSED');
    expect(breaker.metrics().transitions.map((t) => [t.from, t.to, t.at])).toEqual([
      ['CLOSED', 'OPEN', 0],
      ['OPEN', 'HALF_OPEN', 1_000],
      ['HALF_OPEN', 'CLOSED', 1_000],
    ]);
    expect(breakerActors()).toBe(0);

    const actor = breaker.actor;
    expect(breakerActors()).toBe(1);
    expect(breaker.actor).toBe(actor);
    expect(actor.getSnapshot().value).toBe('CLOSED');
    expect(actor.getSnapshot().context).toEqual(breaker.snapshot.context);
    breaker.stop();
  });

  test('a restored OPEN breaker keeps its deadline on the clock', async () => {
    const clock = createManualClock(10_000);
    const breaker = createCircuitBreaker({
      clock,
      resetTimeoutMs: 1_000,
      restore: { state: 'OPEN', consecutiveFailures: 5, openedAt: 9_800, reopensAt: 10_800 },
    });
    expect(breaker.state).toBe('OPEN');
    expect(breaker.retryAfterMs()).toBe(800);
    await clock.advance(799);
    expect(breaker.state).toBe('OPEN');
    await clock.advance(1);
    expect(breaker.state).toBe('HALF_OPEN');
    expect(breakerActors()).toBe(0);
    breaker.stop();
  });

  test('stop() clears the reset timer; the actor read afterwards is stopped', async () => {
    const clock = createManualClock();
    const breaker = createCircuitBreaker({ clock, failureThreshold: 1 });
    await trip(breaker);
    expect(clock.pendingTimers()).toBe(1);
    breaker.stop();
    expect(clock.pendingTimers()).toBe(0);
    expect(breaker.actor.getSnapshot()).toMatchObject({ value: 'OPEN', status: 'stopped' });
    expect(clock.pendingTimers()).toBe(0);
  });

  test('a change asked for by a transition listener waits until every listener saw the first', async () => {
    for (const inspect of [undefined, () => {}]) {
      const clock = createManualClock();
      const breaker = createCircuitBreaker({ clock, failureThreshold: 1, resetTimeoutMs: 100, inspect });
      // The first listener asks the backend to wait as soon as the breaker probes again.
      breaker.onTransition(({ to }) => {
        if (to === 'HALF_OPEN') breaker.holdOpen(5_000);
      });
      const seen: string[] = [];
      breaker.onTransition(({ from, to }) => seen.push(`${from}→${to}`));
      await trip(breaker);
      await clock.advance(100);
      expect(seen, inspect ? 'with an actor' : 'without').toEqual([
        'CLOSED→OPEN',
        'OPEN→HALF_OPEN',
        'HALF_OPEN→OPEN',
      ]);
      expect(breaker.retryAfterMs()).toBe(5_000);
      breaker.stop();
    }
  });
});

describe('the actor made on first read', () => {
  test('starts from the current snapshot and takes over the pending reset timer', async () => {
    const clock = createManualClock();
    const breaker = createCircuitBreaker({ clock, failureThreshold: 1, resetTimeoutMs: 1_000 });
    await trip(breaker);
    await clock.advance(400);
    const actor = breaker.actor;
    const values: string[] = [];
    actor.subscribe((snapshot) => values.push(snapshot.value));
    expect(actor.getSnapshot().value).toBe('OPEN');
    expect(actor.getSnapshot().context.reopensAt).toBe(1_000);
    expect(clock.pendingTimers()).toBe(1);
    await clock.advance(599);
    expect(breaker.state).toBe('OPEN');
    await clock.advance(1);
    expect(breaker.state).toBe('HALF_OPEN');
    expect(actor.getSnapshot().value).toBe('HALF_OPEN');
    expect(values).toEqual(['HALF_OPEN']);
    expect(breaker.metrics()).toMatchObject({ lastOpenDurationMs: 1_000, openCount: 1 });

    // From now on the breaker drives the actor.
    const trial = breaker.execute(() => new Promise<string>(() => {}));
    expect(actor.getSnapshot().context.trialsInFlight).toBe(1);
    void trial;
    breaker.stop();
    expect(actor.getSnapshot().status).toBe('stopped');
    expect(clock.pendingTimers()).toBe(0);
    expect(breakerActors()).toBe(1);
  });

  test('HOLD_OPEN and RESET after the handover replace or cancel the timer it took over', async () => {
    const clock = createManualClock();
    const held = createCircuitBreaker({ clock, failureThreshold: 1, resetTimeoutMs: 1_000 });
    await trip(held);
    void held.actor;
    held.holdOpen(5_000);
    expect(clock.pendingTimers()).toBe(1);
    await clock.advance(4_999);
    expect(held.state).toBe('OPEN');
    await clock.advance(1);
    expect(held.state).toBe('HALF_OPEN');
    expect(clock.pendingTimers()).toBe(0);
    held.stop();

    const reset = createCircuitBreaker({ clock, failureThreshold: 1, resetTimeoutMs: 1_000 });
    await trip(reset);
    void reset.actor;
    reset.reset();
    expect(reset.state).toBe('CLOSED');
    expect(clock.pendingTimers()).toBe(0);
    await clock.advance(2_000);
    expect(reset.metrics().transitions.map((t) => t.to)).toEqual(['OPEN', 'CLOSED']);
    reset.stop();
  });
});

describe('backends follow their breakers without actors', () => {
  let socket: SocketBackend | undefined;
  let bridge: Bridge | undefined;
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    socket?.stop();
    socket = undefined;
    await bridge?.stop();
    bridge = undefined;
    for (const close of closers.splice(0)) await close();
  });

  test('a socket backend suspends on OPEN and reconnects through HALF_OPEN', async () => {
    const port = await freePort();
    socket = createSocketBackend({
      name: 'evolution',
      url: `ws://127.0.0.1:${port}/evolution`,
      retry: { maxRetries: 1, baseDelayMs: 10, maxDelayMs: 20 },
      breaker: { resetTimeoutMs: 150, resetJitter: 0 },
    });
    socket.start();
    await until(() => socket?.state === 'SUSPENDED', 5_000);
    expect(socket.status()).toMatchObject({ breaker: 'OPEN', status: 'fail' });
    expect(socket.status().consecutiveFailures).toBeGreaterThan(0);
    const server = await startSocketLabOn(port);
    closers.push(() => server.kill());
    await until(() => socket?.state === 'CONNECTED', 5_000);
    expect(socket.status()).toMatchObject({ breaker: 'CLOSED', consecutiveFailures: 0 });
    expect(breakerActors()).toBe(0);
  });

  test('a bridge with its default backends makes no breaker actor', async () => {
    const sockets = await startSocketLab();
    const llm = await startLlmLab();
    closers.push(
      () => sockets.kill(),
      () => llm.close(),
    );
    bridge = createBridge({ ...labConfig(sockets, llm), surface: false });
    await bridge.start();
    await until(() => bridge?.health().status === 'pass', 10_000);
    expect(Object.keys(bridge.health().backends).sort()).toEqual(['a2a', 'agents', 'evolution', 'lmStudio']);
    expect(breakerActors()).toBe(0);
  });
});

/** A socket lab listening on `port` (the socket backend above was created before it). */
async function startSocketLabOn(port: number): Promise<SocketLab> {
  const lab = await startSocketLab();
  await lab.kill();
  lab.port = port;
  await lab.restart();
  return lab;
}
