/**
 * The inspector's Node side: the relay's messages (@statelyai/inspect format), redaction of planted
 * secrets, replay for late joiners over the WebSocket server, Origin checks, and the record file.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { assign, createActor, setup } from 'xstate';
import type { Bridge } from '../src/bridge/types.js';
import {
  type ActorMessage,
  createInspectedBridge,
  createInspectionRelay,
  type InspectorMessage,
  type RecordLine,
  redactString,
  startInspectorServer,
  toJsonSafe,
} from '../src/inspector/index.js';
import { type Lab, startLab } from '../src/lab/index.js';
import { until } from './support/net.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const quietLogger = { warn() {}, info() {}, error() {}, debug() {} };

async function labAndBridge(): Promise<{
  lab: Lab;
  bridge: Bridge;
  relay: ReturnType<typeof createInspectionRelay>;
}> {
  const lab = await startLab({ wsPort: 0, httpPort: 0, controlPort: 0 });
  cleanups.push(() => lab.stop());
  const { bridge, relay } = createInspectedBridge({
    logger: quietLogger,
    backends: {
      evolution: { url: lab.urls.evolution },
      agents: { url: lab.urls.agents },
      a2a: { url: lab.urls.a2a },
      lmStudio: { url: lab.urls.lmStudio },
    },
  });
  cleanups.push(async () => {
    await bridge.stop();
    relay.stop();
  });
  return { lab, bridge, relay };
}

function collect(relay: ReturnType<typeof createInspectionRelay>): InspectorMessage[] {
  const all: InspectorMessage[] = [];
  relay.subscribe((batch) => all.push(...batch));
  return all;
}

describe('inspection relay', () => {
  it('announces every actor of the bridge with its machine definition, then events and snapshots', async () => {
    const { bridge, relay } = await labAndBridge();
    const messages = collect(relay);
    await bridge.start();
    await until(() => bridge.health().backends.evolution?.state === 'CONNECTED');
    relay.flush();
    const replay = relay.replay();
    const actors = replay.filter((m) => m.type === '@xstate.actor');
    const names = actors.map((a) => a.name);
    expect(names).toContain('bridge');
    for (const name of ['evolution', 'agents', 'a2a', 'lmStudio']) {
      expect(names).toContain(name);
      expect(names).toContain(`${name}.breaker`);
    }
    const breaker = actors.find((a) => a.name === 'evolution.breaker');
    expect(breaker).toMatchObject({ role: 'breaker', backend: 'evolution', _version: expect.any(String) });
    const definition = JSON.parse(breaker?.definition ?? '{}');
    expect(definition.id).toBe('breaker');
    expect(Object.keys(definition.states)).toEqual(['CLOSED', 'OPEN', 'HALF_OPEN']);
    expect(definition.states.CLOSED.on.FAILURE[0].guard).toBe('reachesFailureThreshold');
    // Session ids are unique even though every backend and breaker runs in its own actor system.
    expect(new Set(actors.map((a) => a.sessionId)).size).toBe(actors.length);

    const socket = actors.find((a) => a.name === 'evolution');
    const events = messages.filter((m) => m.type === '@xstate.event' && m.sessionId === socket?.sessionId);
    expect(events.map((e) => (e as { event: { type: string } }).event.type)).toContain('START');
    const snapshots = messages.filter(
      (m) => m.type === '@xstate.snapshot' && m.sessionId === socket?.sessionId,
    );
    expect(snapshots.at(-1)).toMatchObject({ snapshot: { status: 'active', value: 'CONNECTED' } });
    expect(replay.find((m) => m.type === 'health')).toMatchObject({
      report: { backends: { evolution: { state: 'CONNECTED' } } },
    });
    expect(replay.find((m) => m.type === 'metrics')).toMatchObject({
      breakers: { evolution: { state: 'CLOSED' } },
      retries: { totalRetries: expect.any(Number) },
    });
    // Everything is plain JSON.
    expect(JSON.parse(JSON.stringify(replay))).toEqual(replay);
  });

  it('redacts planted secrets in contexts, events and text, and drops functions', () => {
    const relay = createInspectionRelay();
    const messages = collect(relay);
    const machine = setup({
      types: {
        context: {} as Record<string, unknown>,
        events: {} as { type: 'CALL'; headers: Record<string, string>; url: string },
      },
      actions: { remember: assign({ last: ({ event }) => event.url }) },
    }).createMachine({
      id: 'secretive',
      context: {
        headers: { Authorization: 'Bearer sk-live-abcdefghijklmnop', 'x-api-key': 'k-123456' },
        apiKey: 'plain-api-key-value',
        password: 'hunter2',
        nested: { accessToken: 'tok-999', note: 'uses https://user:pa55@host.example/x' },
        onDone: () => 'a function',
        tokens: 42,
      },
      on: { CALL: { actions: 'remember' } },
    });
    const actor = createActor(machine, { inspect: relay.inspect }).start();
    actor.send({
      type: 'CALL',
      headers: { authorization: 'Bearer abcdefgh12345' },
      url: 'http://127.0.0.1:1/v1?model=x&api_key=topsecret&token=t0ps3cret',
    });
    relay.flush();
    const text = JSON.stringify(messages);
    for (const secret of [
      'sk-live',
      'k-123456',
      'plain-api-key-value',
      'hunter2',
      'tok-999',
      'pa55',
      'abcdefgh12345',
      'topsecret',
      't0ps3cret',
    ]) {
      expect(text).not.toContain(secret);
    }
    expect(text).toContain('[redacted]');
    expect(text).toContain('model=x');
    expect(text).not.toContain('a function');
    const last = messages.filter((m) => m.type === '@xstate.snapshot').at(-1) as {
      snapshot: { context: Record<string, unknown> };
    };
    expect(last.snapshot.context.tokens).toBe(42);
    expect(last.snapshot.context.onDone).toBeUndefined();
    actor.stop();
    relay.stop();
  });

  it('bounds what it sends: depth, arrays, strings, cycles', () => {
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    const safe = toJsonSafe(
      {
        cyclic,
        big: Array.from({ length: 500 }, (_, i) => i),
        long: 'x'.repeat(10_000),
        deep: { a: { b: { c: { d: 1 } } } },
      },
      { maxDepth: 3, maxItems: 10, maxString: 100 },
    ) as Record<string, unknown>;
    expect((safe.cyclic as Record<string, unknown>).self).toBe('[circular]');
    expect(safe.big).toHaveLength(11);
    expect((safe.long as string).length).toBeLessThan(200);
    expect(JSON.stringify(safe.deep)).toContain('[…]');
    expect(redactString('GET /x?password=p&y=1 Authorization: Bearer abc.def-123')).toBe(
      'GET /x?password=[redacted]&y=1 Authorization: Bearer [redacted]',
    );
  });

  it('keeps up with 1 000+ events per second, batched', async () => {
    const relay = createInspectionRelay({ flushIntervalMs: 50 });
    const batches: number[] = [];
    relay.subscribe((batch) => batches.push(batch.length));
    const machine = setup({}).createMachine({
      id: 'ping',
      initial: 'a',
      states: { a: { on: { T: 'b' } }, b: { on: { T: 'a' } } },
    });
    const actor = createActor(machine, { inspect: relay.inspect }).start();
    const started = performance.now();
    for (let i = 0; i < 5_000; i++) actor.send({ type: 'T' });
    relay.flush();
    const elapsed = performance.now() - started;
    expect(elapsed).toBeLessThan(5_000); // generous: shared CI cores
    expect(batches.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(10_000);
    actor.stop();
    relay.stop();
  });
});

describe('inspector server', () => {
  function connect(url: string, origin?: string): Promise<{ ws: WebSocket; frames: InspectorMessage[][] }> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, origin ? { headers: { origin } } : {});
      const frames: InspectorMessage[][] = [];
      ws.on('message', (data) => frames.push(JSON.parse(String(data))));
      ws.once('open', () => resolve({ ws, frames }));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
  }

  it('replays actors, snapshots, health and the lab to a late joiner, then streams', async () => {
    const { lab, bridge, relay } = await labAndBridge();
    const server = await startInspectorServer({
      bridge,
      relay,
      labControl: { url: lab.urls.control, token: lab.token, pageOrigins: ['http://127.0.0.1:5173'] },
    });
    cleanups.push(() => server.stop());
    expect(server.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/$/);
    await bridge.start();
    await until(() => bridge.health().backends.evolution?.state === 'CONNECTED');
    await new Promise((resolve) => setTimeout(resolve, 100));

    const { ws, frames } = await connect(server.url, 'http://127.0.0.1:5173');
    cleanups.push(() => void ws.close());
    await until(() => frames.length > 0);
    const first = frames[0] ?? [];
    expect(first[0]).toMatchObject({ type: 'hello', replay: true });
    expect(first[1]).toMatchObject({ type: 'lab', url: lab.urls.control, token: lab.token });
    const names = first.filter((m) => m.type === '@xstate.actor').map((m) => (m as { name: string }).name);
    expect(names).toEqual(
      expect.arrayContaining(['bridge', 'evolution', 'evolution.breaker', 'lmStudio.breaker']),
    );
    const socketId = first.find(
      (m): m is ActorMessage => m.type === '@xstate.actor' && m.name === 'evolution',
    )?.sessionId;
    expect(first.find((m) => m.type === '@xstate.snapshot' && m.sessionId === socketId)).toMatchObject({
      snapshot: { value: 'CONNECTED' },
    });
    expect(first.some((m) => m.type === 'health')).toBe(true);

    lab.fault('evolution', 'down');
    await until(() =>
      frames
        .slice(1)
        .flat()
        .some((m) => m.type === 'health' && m.report.backends.evolution?.state !== 'CONNECTED'),
    );
  });

  it('refuses foreign origins and non-loopback hosts', async () => {
    const { bridge, relay } = await labAndBridge();
    const server = await startInspectorServer({ bridge, relay });
    cleanups.push(() => server.stop());
    await expect(connect(server.url, 'https://evil.example')).rejects.toThrow(/403/);
    await expect(startInspectorServer({ bridge, relay, host: '0.0.0.0' })).rejects.toThrow(/loopback/);
    const bare = createInspectionRelay();
    cleanups.push(() => bare.stop());
    const unattached = { ...bridge } as Bridge;
    await expect(startInspectorServer({ bridge: unattached })).rejects.toThrow(/relay/);
  });

  it('records every message and health report as timestamped JSON lines, without the lab token', async () => {
    const { lab, bridge, relay } = await labAndBridge();
    const file = join(mkdtempSync(join(tmpdir(), 'inspector-record-')), 'incident.jsonl');
    const server = await startInspectorServer({
      bridge,
      relay,
      record: file,
      labControl: { url: lab.urls.control, token: lab.token },
    });
    await bridge.start();
    await until(() => bridge.health().backends.evolution?.state === 'CONNECTED');
    lab.fault('evolution', 'down');
    await until(() => bridge.health().backends.evolution?.state !== 'CONNECTED');
    await new Promise((resolve) => setTimeout(resolve, 100));
    await server.stop();
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain(lab.token);
    const lines = text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as RecordLine);
    expect(lines.length).toBeGreaterThan(10);
    for (const line of lines) {
      expect(typeof line.t).toBe('number');
      expect(typeof line.message.type).toBe('string');
    }
    const types = new Set(lines.map((l) => l.message.type));
    for (const type of ['@xstate.actor', '@xstate.event', '@xstate.snapshot', 'health'])
      expect(types).toContain(type);
    expect(lines.map((l) => l.t)).toEqual([...lines.map((l) => l.t)].sort((a, b) => a - b));
    const healthStates = lines
      .filter((l) => l.message.type === 'health')
      .map(
        (l) =>
          (l.message as { report: { backends: Record<string, { state: string }> } }).report.backends.evolution
            ?.state,
      );
    expect(healthStates).toContain('CONNECTED');
    expect(healthStates.at(-1)).not.toBe('CONNECTED');
  });
});
