/*
 * A hostile WebSocket backend: random bytes (binary and text), frames over `maxFrameBytes`, JSON
 * nested 100 000 levels deep, replies to real requests carrying deeply nested or oversized fields, and
 * floods of messages. The bridge must not crash (no throw, no unhandled rejection, every tool call
 * resolves with a boolean `success`), its malformed-frame counters must rise, its heap must stay
 * bounded, and once the backend behaves again the tools work again.
 *
 * Heap: measured with a real garbage collection when one is reachable (`global.gc` under
 * --expose-gc, else `v8.setFlagsFromString('--expose-gc')` + `vm.runInNewContext('gc')`); without
 * one, a generous bound applies. The test prints which.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type net from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import { findGc } from '../scripts/gc.js';
import type { SocketBackend } from '../src/backends/socket.js';
import { createNodeBridge } from '../src/bridge/node.js';
import type { Bridge, ToolResult } from '../src/bridge/types.js';
import { until } from './support/net.js';

const MAX_FRAME = 256 * 1024;
type Mode = 'good' | 'silent' | 'hostile-replies';

function deepArray(levels: number): string {
  return `${'['.repeat(levels)}${']'.repeat(levels)}`;
}
function deepObject(levels: number): string {
  return `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
}

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
let server: WebSocketServer;
let port = 0;
let mode: Mode = 'good';
const clients = new Set<WebSocket>();
/** Which backend each server-side connection serves (its path: evolution, agents, a2a). */
const pathOf = new Map<WebSocket, string>();
let bridge: Bridge;
let warnings = 0;

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  server = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 64 * 1024 * 1024 });
  server.on('error', () => {});
  server.on('connection', (ws, request) => {
    clients.add(ws);
    pathOf.set(ws, (request.url ?? '').replace(/^\/+/, '').split(/[/?]/)[0] ?? '');
    ws.on('close', () => {
      clients.delete(ws);
      pathOf.delete(ws);
    });
    ws.on('error', () => {});
    ws.on('message', (data) => {
      let frame: Record<string, unknown>;
      try {
        frame = JSON.parse(String(data));
      } catch {
        return;
      }
      if (typeof frame.requestId !== 'string' || mode === 'silent') return;
      if (mode === 'good') {
        ws.send(JSON.stringify({ requestId: frame.requestId, success: true, bestFitness: 1, agentId: 'a1' }));
        return;
      }
      // Hostile replies to real requests: deep nesting, huge fields, wrong types, duplicates.
      const requestId = frame.requestId;
      ws.send(
        `{"requestId":${JSON.stringify(requestId)},"success":true,"evolvedShader":${deepObject(20_000)}}`,
      );
      ws.send(
        JSON.stringify({ requestId, success: 'yes', agentId: { nested: [1, 2, 3] }, bestFitness: 'NaN' }),
      );
      ws.send(JSON.stringify({ requestId, success: false, error: 'x'.repeat(100_000) }));
      ws.send(JSON.stringify({ requestId: 42, success: true }));
      ws.send(JSON.stringify({ requestId: '', success: true }));
    });
  });
  await once(server, 'listening');
  port = (server.address() as net.AddressInfo).port;
  const socket = {
    maxFrameBytes: MAX_FRAME,
    retry: { maxRetries: 8, baseDelayMs: 20, maxDelayMs: 200 },
    // No heartbeat: a pong queued behind thousands of frames on a loaded machine would time out and
    // drop a connection mid-flood, and the test could no longer compare frames sent with frames counted.
    heartbeat: false as const,
  };
  const count = () => {
    warnings++;
  };
  bridge = createNodeBridge({
    logger: { warn: count, error: count, info: () => {} },
    backends: {
      evolution: { url: `ws://127.0.0.1:${port}/evolution`, options: socket },
      agents: { url: `ws://127.0.0.1:${port}/agents`, options: socket },
      a2a: { url: `ws://127.0.0.1:${port}/a2a`, options: socket },
      lmStudio: { url: 'http://127.0.0.1:1/v1', options: { retry: { maxRetries: 0 } } },
    },
  });
  await bridge.start();
  await until(() => clients.size >= 3 && connected(), SAFETY_MS, 'three connections');
});

afterAll(async () => {
  await bridge?.stop();
  for (const ws of clients) ws.terminate();
  await new Promise<void>((resolve) => server?.close(() => resolve()));
  process.off('unhandledRejection', onUnhandled);
});

/** Safety net of the event waits below: a hang fails with a name; nothing depends on the machine's speed. */
const SAFETY_MS = 60_000;
const socketNames = ['evolution', 'agents', 'a2a'];
const sockets = () => socketNames.map((name) => bridge.backend(name) as SocketBackend);
const connected = () => sockets().every((s) => s.state === 'CONNECTED');
const total = (key: 'malformedFrames' | 'framesReceived') =>
  sockets().reduce((sum, s) => sum + s.stats()[key], 0);

const backendNamed = (name: string) => bridge.backend(name) as SocketBackend | undefined;

interface BlastOutcome {
  /** Per backend: frames sent, malformed frames among them, and whether its connection stayed open. */
  [backend: string]: {
    sent: number;
    malformedSent: number;
    received: number;
    malformed: number;
    open: boolean;
  };
}

/**
 * Sends `frames` on every connected client, then waits — for events, not for a time — until each
 * connection has either closed or its backend has received every frame sent on it. Returns what was
 * sent and what each backend counted, so callers compare the two exactly.
 */
async function blast(
  frames: (string | Buffer)[],
  what: string,
  isMalformed: (frame: string | Buffer) => boolean = () => true,
): Promise<BlastOutcome> {
  const outcome: BlastOutcome = {};
  const targets: { ws: WebSocket; name: string; before: { received: number; malformed: number } }[] = [];
  for (const ws of clients) {
    const name = pathOf.get(ws) ?? '';
    const backend = backendNamed(name);
    if (!backend) continue;
    const stats = backend.stats();
    const target = { ws, name, before: { received: stats.framesReceived, malformed: stats.malformedFrames } };
    targets.push(target);
    const line = { sent: 0, malformedSent: 0, received: 0, malformed: 0, open: true };
    outcome[name] = line;
    for (const frame of frames) {
      if (ws.readyState !== ws.OPEN) break;
      ws.send(frame);
      line.sent++;
      if (isMalformed(frame)) line.malformedSent++;
    }
  }
  // Connections may be dropped by the client (e.g. on a frame over maxFrameBytes): then wait no more for them.
  const settled = () =>
    targets.every(({ ws, name, before }) => {
      const stats = backendNamed(name)?.stats();
      const line = outcome[name];
      if (!stats || !line) return true;
      return ws.readyState !== ws.OPEN || stats.framesReceived - before.received >= line.sent;
    });
  await until(settled, SAFETY_MS, `${what}: every frame received or its connection closed`);
  for (const { ws, name, before } of targets) {
    const stats = backendNamed(name)?.stats();
    const line = outcome[name];
    if (!stats || !line) continue;
    line.received = stats.framesReceived - before.received;
    line.malformed = stats.malformedFrames - before.malformed;
    line.open = ws.readyState === ws.OPEN;
  }
  const received = Object.values(outcome).reduce((sum, line) => sum + line.received, 0);
  expect(received, what).toBeGreaterThan(0);
  return outcome;
}

const calls: Promise<ToolResult>[] = [];
function callTools(): void {
  calls.push(
    bridge.callTool('trigger_evolution', { seed_shader: 'x', generations: 1 }),
    bridge.callTool('spawn_area_agent', {
      agent_type: 'monitor',
      region: { x: 0, y: 0, width: 1, height: 1 },
    }),
    bridge.callTool('send_a2a_message', { to_agent: 'b', message_type: 'heartbeat', content: {} }),
    bridge.callTool('reliability_get_status', {}),
  );
}

test('random bytes, huge frames, deep JSON, hostile replies and floods: no crash, counted, bounded heap', async () => {
  const gc = findGc();
  const heap = () => {
    gc?.();
    gc?.();
    return process.memoryUsage().heapUsed;
  };
  mode = 'good';
  const baseline = heap();
  const t0 = Date.now();
  const phase = (what: string) =>
    console.log(`${what}: ${Date.now() - t0} ms, ${total('malformedFrames')} malformed`);
  const malformedBefore = total('malformedFrames');

  // 1. Random bytes: binary frames and text frames that are not JSON.
  const random: (string | Buffer)[] = [];
  for (let i = 0; i < 300; i++) {
    random.push(randomBytes(1 + Math.floor(Math.random() * 4096)));
    random.push(randomBytes(1 + Math.floor(Math.random() * 512)).toString('latin1'));
  }
  callTools();
  await blast(random, 'random bytes');
  await until(connected, SAFETY_MS, 'reconnected after random bytes');
  phase('random bytes');

  // 2. Frames over maxFrameBytes, text and binary.
  const huge = 'x'.repeat(MAX_FRAME * 4);
  callTools();
  await blast(
    [huge, Buffer.alloc(MAX_FRAME * 4, 0x7b), JSON.stringify({ big: huge }), `"${'é'.repeat(MAX_FRAME)}"`],
    'huge frames',
  );
  await until(connected, SAFETY_MS, 'reconnected after huge frames');
  phase('huge frames');

  // 3. JSON nested 100 000 levels deep (an array, and an object whose size passes the limit).
  const bigBridge = sockets()[0] as SocketBackend;
  expect(deepArray(100_000).length).toBeLessThan(MAX_FRAME);
  callTools();
  await blast([deepArray(100_000), deepArray(100_000), deepObject(40_000)], 'deep JSON');
  await until(connected, SAFETY_MS, 'reconnected after deep JSON');
  phase('deep JSON');

  // 4. Hostile replies to real requests.
  mode = 'hostile-replies';
  for (let i = 0; i < 20; i++) callTools();
  const hostileResults = await Promise.all(calls.splice(0));
  mode = 'good';
  phase('hostile replies');

  // 5. Floods: 20 000 small frames per connection, junk and valid-looking ones mixed (half of them
  // malformed: "not json" and a JSON array). The count is what matters, not how fast it goes through.
  const FLOOD = 20_000;
  const flood: string[] = [];
  for (let i = 0; i < FLOOD; i++) {
    const kind = i % 4;
    flood.push(
      kind === 0
        ? 'not json'
        : kind === 1
          ? JSON.stringify({ requestId: `unknown_${i}`, success: true })
          : kind === 2
            ? JSON.stringify({ type: 'event', n: i })
            : '[1,2,3]',
    );
  }
  callTools();
  const flooded = await blast(flood, 'flood', (frame) => frame === 'not json' || frame === '[1,2,3]');
  phase('flood');
  // Every malformed frame sent was counted, on every connection, and none was dropped on the way.
  expect(Object.keys(flooded).sort()).toEqual([...socketNames].sort());
  for (const [name, line] of Object.entries(flooded)) {
    expect(line, name).toMatchObject({ sent: FLOOD, malformedSent: FLOOD / 2, open: true });
    // Frames still on their way from the hostile phase may land in the same window: whatever is
    // counted beyond the flood's malformed frames is bounded by the frames received beyond it.
    expect(
      line.malformed,
      `${name}: malformed frames counted of ${line.malformedSent} sent`,
    ).toBeGreaterThanOrEqual(line.malformedSent);
    expect(line.malformed - line.malformedSent, `${name}: extra malformed`).toBeLessThanOrEqual(
      line.received - line.sent,
    );
    expect(line.received, `${name}: frames received`).toBeGreaterThanOrEqual(line.sent);
  }
  await until(connected, SAFETY_MS, 'connected after the flood');

  // Every call resolved with a well-formed result.
  const results = [...hostileResults, ...(await Promise.all(calls.splice(0)))];
  for (const result of results) {
    expect(typeof result.success).toBe('boolean');
    expect(() => JSON.stringify(result)).not.toThrow();
  }
  const malformed = total('malformedFrames') - malformedBefore;
  expect(malformed).toBeGreaterThanOrEqual(3 * (FLOOD / 2));
  expect(bigBridge.stats().malformedFrames).toBeGreaterThanOrEqual(FLOOD / 2);
  expect(warnings).toBeGreaterThan(0);

  // The backend behaves again: the tools work again.
  mode = 'good';
  await until(connected, SAFETY_MS, 'connected');
  expect(await bridge.callTool('trigger_evolution', { seed_shader: 'x', generations: 1 })).toMatchObject({
    success: true,
  });
  expect(
    await bridge.callTool('spawn_area_agent', {
      agent_type: 'monitor',
      region: { x: 0, y: 0, width: 1, height: 1 },
    }),
  ).toMatchObject({ success: true });

  const growth = heap() - baseline;
  const bound = gc ? 32 * 1024 * 1024 : 256 * 1024 * 1024;
  console.log(
    `hostile backend: ${malformed} malformed frames counted, heap growth ${(growth / 1048576).toFixed(1)} MiB ` +
      `(bound ${bound / 1048576} MiB, ${gc ? 'after gc()' : 'no gc available: generous bound'})`,
  );
  expect(growth).toBeLessThan(bound);
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(unhandled).toEqual([]);
}, 120_000);
