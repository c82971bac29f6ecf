import { describe, expect, it } from 'vitest';
import { type AnyEventObject, createActor } from 'xstate';
import { createManualClock } from '../src/clock.js';
import {
  createTransitionCollector,
  expectFullCoverage,
  transitionPaths,
} from '../test/support/transitions.js';
import {
  backoffExponentCap,
  fullJitterDelay,
  type SocketMachineInput,
  socketMachine,
} from './socket.machine.js';

// Small numbers keep the context (and so the graph) finite: attempt is capped at log2(400/100) = 2.
const smallInput: SocketMachineInput = {
  connectTimeoutMs: 50,
  baseDelayMs: 100,
  maxDelayMs: 400,
  heartbeatIntervalMs: 30,
  heartbeatTimeoutMs: 10,
  minUptimeMs: 100,
};

const after = (delay: string, state: string): AnyEventObject => ({
  type: `xstate.after.${delay}.socket.${state}`,
});

const graphEvents: AnyEventObject[] = [
  { type: 'START' },
  { type: 'STOP' },
  { type: 'RESUME' },
  { type: 'OPENED' },
  { type: 'CLOSED', code: 1006, reason: '' },
  { type: 'CLOSED', code: 4401, reason: 'unauthorized' },
  { type: 'ERROR', message: 'boom' },
  { type: 'HEARTBEAT_DUE' },
  { type: 'PONG' },
  { type: 'HEARTBEAT_MISSED' },
  { type: 'BREAKER_OPEN' },
  { type: 'BREAKER_HALF_OPEN' },
  { type: 'BREAKER_CLOSED' },
  after('connectTimeout', 'CONNECTING'),
  after('reconnectBackoff', 'RECONNECTING'),
  after('minUptime', 'CONNECTED'),
];

describe('socketMachine — model-based transition coverage', () => {
  it('covers every defined transition by replaying shortest paths against an actor', async () => {
    // A done actor (CLOSED is final) takes no more events, so the graph must not send it any.
    const paths = transitionPaths(socketMachine, {
      input: smallInput,
      events: (snapshot) => (snapshot.status === 'done' ? [] : graphEvents),
      // errorCount grows with every error: a few are enough to take every transition.
      stopWhen: (snapshot) => snapshot.context.errorCount > 2,
    });
    expect(paths.length).toBeGreaterThan(0);
    const collector = createTransitionCollector();
    for (const path of paths) {
      const clock = createManualClock();
      const actor = createActor(socketMachine, { input: smallInput, clock, inspect: collector.inspect });
      actor.start();
      for (const step of path.steps) actor.send(step.event);
      expect(actor.getSnapshot().value).toEqual(path.state.value);
      expect(actor.getSnapshot().context).toEqual(path.state.context);
      actor.stop();
    }
    expectFullCoverage('socket', socketMachine, collector.taken);
  });
});

describe('socketMachine — timing on the clock', () => {
  const input: SocketMachineInput = {
    connectTimeoutMs: 5000,
    baseDelayMs: 200,
    maxDelayMs: 4000,
    heartbeatIntervalMs: 1000,
    heartbeatTimeoutMs: 500,
    minUptimeMs: 5000,
  };

  function start() {
    const clock = createManualClock();
    const actor = createActor(socketMachine, { input, clock });
    actor.start();
    actor.send({ type: 'START' });
    return { clock, actor };
  }

  it('times out a connect attempt after connectTimeout and plans a backoff', async () => {
    const { clock, actor } = start();
    await clock.advance(4999);
    expect(actor.getSnapshot().value).toBe('CONNECTING');
    await clock.advance(1);
    expect(actor.getSnapshot().value).toBe('RECONNECTING');
    expect(actor.getSnapshot().context.lastError).toBe('connect timeout');
    // Middle of the full-jitter window for k = 0: 100 ms.
    expect(actor.getSnapshot().context.nextDelayMs).toBe(100);
    await clock.advance(100);
    expect(actor.getSnapshot().value).toBe('CONNECTING');
  });

  it('declares a silent peer dead within heartbeat interval + timeout', async () => {
    const { clock, actor } = start();
    actor.send({ type: 'OPENED' });
    await clock.advance(1000);
    expect(actor.getSnapshot().context.awaitingPong).toBe(true);
    actor.send({ type: 'PONG' });
    await clock.advance(1499);
    expect(actor.getSnapshot().value).toBe('CONNECTED');
    await clock.advance(1);
    expect(actor.getSnapshot().value).toBe('RECONNECTING');
    expect(actor.getSnapshot().context.lastError).toMatch(/heartbeat/);
  });

  it('keeps the heartbeat going while pongs arrive', async () => {
    const { clock, actor } = start();
    actor.send({ type: 'OPENED' });
    for (let i = 0; i < 10; i++) {
      await clock.advance(1000);
      actor.send({ type: 'PONG' });
    }
    expect(actor.getSnapshot().value).toBe('CONNECTED');
    expect(clock.pendingTimers()).toBeLessThanOrEqual(2);
  });

  it('starts the backoff over only after minUptime', async () => {
    const { clock, actor } = start();
    actor.send({ type: 'CLOSED', code: 1006, reason: '' });
    await clock.next();
    actor.send({ type: 'CLOSED', code: 1006, reason: '' });
    expect(actor.getSnapshot().context.attempt).toBe(2);
    await clock.next();
    actor.send({ type: 'OPENED' });
    await clock.advance(100);
    actor.send({ type: 'CLOSED', code: 1006, reason: '' }); // dropped before minUptime
    expect(actor.getSnapshot().context.attempt).toBe(3);
    await clock.next();
    actor.send({ type: 'OPENED' });
    // pongs keep it alive past minUptime
    for (let t = 0; t < 5000; t += 1000) {
      await clock.advance(1000);
      actor.send({ type: 'PONG' });
    }
    expect(actor.getSnapshot().context.attempt).toBe(0);
  });

  it('suspends on policy close codes and leaves only on RESUME', () => {
    for (const code of [1008, 4401, 4403]) {
      const { actor } = start();
      actor.send({ type: 'OPENED' });
      actor.send({ type: 'CLOSED', code, reason: 'nope' });
      expect(actor.getSnapshot().value).toBe('SUSPENDED');
      expect(actor.getSnapshot().context.lastError).toBe(`closed with code ${code}: nope`);
      actor.send({ type: 'BREAKER_HALF_OPEN' });
      expect(actor.getSnapshot().value).toBe('SUSPENDED');
      actor.send({ type: 'RESUME' });
      expect(actor.getSnapshot().value).toBe('CONNECTING');
    }
  });

  it('full jitter draws from [0, min(max, base·2^k)) and the exponent is capped', () => {
    expect(fullJitterDelay(0, input, () => 0.999)).toBeCloseTo(199.8);
    expect(fullJitterDelay(3, input, () => 0.5)).toBe(800);
    expect(fullJitterDelay(10, input, () => 0.5)).toBe(2000);
    expect(backoffExponentCap(200, 4000)).toBe(5);
    expect(backoffExponentCap(100, 100)).toBe(0);
  });
});
