import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { InspectionEvent } from 'xstate';
import type { BackendHealth, HealthStatus } from '../src/backends/types.js';
import { createBridge } from '../src/bridge/create-bridge.js';
import { healthChanged, healthReport } from '../src/bridge/health.js';
import { createNodeBridge } from '../src/bridge/node.js';
import type { Bridge, HealthReport } from '../src/bridge/types.js';
import { createManualClock } from '../src/clock.js';
import { labConfig, quietLogger, type SocketLab, startSocketLab, until } from './bridge-fixtures.js';

const line = (status: HealthStatus, critical: boolean): BackendHealth => ({
  kind: 'websocket',
  status,
  state: status === 'pass' ? 'CONNECTED' : 'RECONNECTING',
  breaker: 'CLOSED',
  consecutiveFailures: 0,
  lastCheckAt: null,
  lastSuccessAt: null,
  lastError: null,
  lastErrorAt: null,
  latencyMs: null,
  critical,
});

const reportOf = (backends: Record<string, BackendHealth>) => healthReport({ context: { backends } }, 0);

describe('healthReport aggregation', () => {
  it('pass when all pass, warn when any is not pass, fail only for a failing critical backend', () => {
    expect(reportOf({ a: line('pass', true), b: line('pass', false) }).status).toBe('pass');
    expect(reportOf({ a: line('pass', true), b: line('warn', false) }).status).toBe('warn');
    expect(reportOf({ a: line('pass', true), b: line('fail', false) }).status).toBe('warn');
    expect(reportOf({ a: line('warn', true), b: line('pass', false) }).status).toBe('warn');
    expect(reportOf({ a: line('fail', true), b: line('pass', false) }).status).toBe('fail');
    expect(reportOf({}).status).toBe('pass');
    expect(reportOf({}).checkedAt).toBe('1970-01-01T00:00:00.000Z');
  });

  it('holds for any set of backends (property)', () => {
    const status = fc.constantFrom<HealthStatus>('pass', 'warn', 'fail');
    fc.assert(
      fc.property(fc.array(fc.tuple(status, fc.boolean()), { maxLength: 12 }), (lines) => {
        const backends = Object.fromEntries(lines.map(([s, critical], i) => [`b${i}`, line(s, critical)]));
        const report = reportOf(backends);
        const criticalFails = lines.some(([s, critical]) => s === 'fail' && critical);
        const allPass = lines.every(([s]) => s === 'pass');
        expect(report.status).toBe(criticalFails ? 'fail' : allPass ? 'pass' : 'warn');
        expect(report.backends).toEqual(backends);
        expect(report.backends).not.toBe(backends);
      }),
    );
  });

  it('healthChanged looks at status, state and breaker only', () => {
    const a = reportOf({ x: line('pass', false) });
    expect(
      healthChanged(a, reportOf({ x: { ...line('pass', false), latencyMs: 5, lastCheckAt: 'now' } })),
    ).toBe(false);
    expect(healthChanged(a, reportOf({ x: { ...line('pass', false), breaker: 'HALF_OPEN' } }))).toBe(true);
    expect(healthChanged(a, reportOf({ x: line('warn', false) }))).toBe(true);
    expect(healthChanged(a, reportOf({}))).toBe(true);
  });
});

let sockets: SocketLab | null = null;
let bridge: Bridge | null = null;

afterEach(async () => {
  await bridge?.stop();
  bridge = null;
  await sockets?.kill();
  sockets = null;
});

/** A fetch that answers like LM Studio (or refuses, when `down`), with no network. */
function stubFetch() {
  const stub = {
    down: false,
    calls: [] as string[],
    fetch: async (url: string) => {
      stub.calls.push(url);
      if (stub.down) throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
      return new Response(JSON.stringify({ data: [{ id: 'local' }] }), {
        status: 200,
        headers: { 'content-type': 'application/json' },
      });
    },
  };
  return stub;
}

const noHeartbeat = { options: { heartbeat: false as const } };

describe('createBridge lifecycle', () => {
  it('spawns one link per backend (systemId backend:<name>), runs, and stops every backend', async () => {
    sockets = await startSocketLab();
    const llm = stubFetch();
    bridge = createNodeBridge(labConfig(sockets, { baseUrl: 'http://127.0.0.1:1/v1' }, { fetch: llm.fetch }));
    const system = bridge.actor.system;
    for (const name of ['evolution', 'agents', 'a2a', 'lmStudio'])
      expect(system.get(`backend:${name}`), name).toBeDefined();
    expect(bridge.actor.getSnapshot().value).toBe('idle');
    await bridge.start();
    expect(bridge.actor.getSnapshot().value).toEqual({ running: 'waiting' });
    await until(() => bridge?.health().backends.evolution?.state === 'CONNECTED', 5_000, 'connected');
    await until(() => bridge?.health().backends.lmStudio?.state === 'UP', 5_000, 'lmStudio up');
    await bridge.stop();
    expect(bridge.actor.getSnapshot().status).toBe('done');
    expect(bridge.actor.getSnapshot().value).toBe('stopped');
    const health = bridge.health();
    expect(health.backends.evolution?.state).toBe('CLOSED');
    expect(health.backends.lmStudio?.state).toBe('STOPPED');
    expect(health.status).toBe('fail');
    await bridge.stop(); // idempotent
  });

  it('a backend state change shows in health() before the event that caused it returns', async () => {
    sockets = await startSocketLab();
    bridge = createNodeBridge(labConfig(sockets, { baseUrl: 'http://127.0.0.1:1/v1' }));
    await bridge.start();
    await until(() => bridge?.health().backends.evolution?.state === 'CONNECTED', 5_000, 'connected');
    const evolution = bridge.backend('evolution');
    const seen: string[] = [];
    const mismatches: string[] = [];
    const subscription = evolution?.actor.subscribe((snapshot) => {
      const state = String(snapshot.value);
      seen.push(state);
      const reported = bridge?.health().backends.evolution?.state;
      if (reported !== state) mismatches.push(`${state} reported as ${reported}`);
    });
    await sockets.kill();
    await until(() => seen.includes('RECONNECTING'), 2_000, 'reconnecting');
    subscription?.unsubscribe();
    expect(mismatches).toEqual([]);
    expect(bridge.health().backends.evolution?.status).toBe('fail');
  });

  it('inspect receives the orchestrator, every backend and every breaker', async () => {
    const actors = new Set<string>();
    const inspect = (event: InspectionEvent) => {
      if (event.type === '@xstate.actor') actors.add(event.actorRef.sessionId);
    };
    bridge = createBridge({ logger: quietLogger, inspect, fetch: stubFetch().fetch });
    // 1 orchestrator + 4 links + 4 backend actors + 4 breakers.
    expect(actors.size).toBeGreaterThanOrEqual(13);
  });

  it('critical is configuration: a failing lmStudio is fail by default, warn when not critical', async () => {
    const llm = stubFetch();
    llm.down = true;
    const clock = createManualClock(Date.parse('2026-01-01T00:00:00Z'));
    const options = { backends: { lmStudio: { options: { downAfterFailures: 1 } } } };
    bridge = createBridge({ ...options, logger: quietLogger, fetch: llm.fetch, clock, surface: false });
    await bridge.start();
    await clock.advance(0);
    expect(bridge.health().backends.lmStudio).toMatchObject({ status: 'fail', critical: true });
    expect(bridge.health().status).toBe('fail');
    await bridge.stop();
    bridge = createBridge({
      backends: { lmStudio: { critical: false, options: { downAfterFailures: 1 } } },
      logger: quietLogger,
      fetch: llm.fetch,
      clock,
      surface: false,
    });
    await bridge.start();
    await clock.advance(0);
    expect(bridge.health().backends.lmStudio).toMatchObject({ status: 'fail', critical: false });
    expect(bridge.health().status).toBe('warn');
  });
});

describe('onHealthChange', () => {
  it('fires once per real change and never on idle health-check ticks', async () => {
    sockets = await startSocketLab();
    const llm = stubFetch();
    const clock = createManualClock(Date.parse('2026-01-01T00:00:00Z'));
    bridge = createNodeBridge(
      labConfig(
        sockets,
        { baseUrl: 'http://127.0.0.1:1/v1' },
        {
          clock,
          fetch: llm.fetch,
          backends: {
            evolution: noHeartbeat,
            agents: noHeartbeat,
            a2a: noHeartbeat,
            // Opens after 5 failed probes (50 s below); the http kind's default, the failure rate
            // over 20 calls at least, would need 20 probes (200 s) of an idle backend.
            lmStudio: { breaker: { rule: { kind: 'consecutive' } } },
          },
        },
      ),
    );
    const changes: [HealthReport, HealthReport][] = [];
    bridge.onHealthChange((report, previous) => changes.push([report, previous]));
    await bridge.start();
    await clock.advance(0);
    await until(
      () =>
        ['evolution', 'agents', 'a2a'].every(
          (name) => bridge?.health().backends[name]?.state === 'CONNECTED',
        ),
      5_000,
      'connected',
    );
    expect(bridge.health().backends.lmStudio?.state).toBe('UP');
    expect(changes.length).toBeGreaterThan(0);

    const checkChain = () => {
      for (const [i, [report, previous]] of changes.entries()) {
        expect(healthChanged(previous, report), `change ${i} is real`).toBe(true);
        if (i > 0) expect(previous).toBe(changes[i - 1]?.[0]);
      }
    };
    checkChain();

    // Five health-check intervals with nothing changing: probes run, no notification.
    const before = changes.length;
    const probesBefore = llm.calls.length;
    for (let i = 0; i < 55; i++) await clock.advance(1_000);
    expect(llm.calls.length - probesBefore).toBeGreaterThanOrEqual(5);
    expect(changes.length).toBe(before);

    // A surface coming up is one change; the same again is none.
    bridge.setSurface('mcp', true);
    expect(changes.length).toBe(before + 1);
    expect(changes.at(-1)?.[0].backends.webmcp).toMatchObject({ status: 'pass', state: 'SERVING' });
    bridge.setSurface('mcp', true);
    expect(changes.length).toBe(before + 1);
    expect(bridge.health().status).toBe('pass');

    // The LLM going away: one notification per distinct (status, state, breaker) step.
    llm.down = true;
    for (let i = 0; i < 60; i++) await clock.advance(1_000);
    const steps = changes.slice(before + 1).map(([report]) => {
      const lm = report.backends.lmStudio as BackendHealth;
      return `${lm.status}/${lm.state}/${lm.breaker}`;
    });
    expect(steps.length).toBeGreaterThan(0);
    for (let i = 1; i < steps.length; i++) expect(steps[i]).not.toBe(steps[i - 1]);
    expect(steps).toContain('fail/DOWN/OPEN');
    expect(bridge.health().status).toBe('fail');
    checkChain();

    // Unsubscribed listeners hear nothing.
    const count = changes.length;
    const unsubscribe = bridge.onHealthChange(() => changes.push(changes[0] as [HealthReport, HealthReport]));
    unsubscribe();
    llm.down = false;
    for (let i = 0; i < 60; i++) await clock.advance(1_000);
    expect(bridge.health().backends.lmStudio?.state).toBe('UP');
    expect(changes.length).toBeGreaterThan(count);
    checkChain();
  });
});
