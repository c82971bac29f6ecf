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
let bridge: Bridge;
let warnings = 0;

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  server = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 64 * 1024 * 1024 });
  server.on('error', () => {});
  server.on('connection', (ws) => {
    clients.add(ws);
    ws.on('close', () => clients.delete(ws));
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
    heartbeat: { intervalMs: 1_000, timeoutMs: 2_000 },
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
  await until(() => clients.size >= 3 && connected(), 5_000, 'three connections');
});

afterAll(async () => {
  await bridge?.stop();
  for (const ws of clients) ws.terminate();
  await new Promise<void>((resolve) => server?.close(() => resolve()));
  process.off('unhandledRejection', onUnhandled);
});

const socketNames = ['evolution', 'agents', 'a2a'];
const sockets = () => socketNames.map((name) => bridge.backend(name) as SocketBackend);
const connected = () => sockets().every((s) => s.state === 'CONNECTED');
const total = (key: 'malformedFrames' | 'framesReceived') =>
  sockets().reduce((sum, s) => sum + s.stats()[key], 0);

/** Sends to every connected client; resolves once the bridge has received them (or the wait ends). */
async function blast(frames: (string | Buffer)[], what: string): Promise<void> {
  const before = total('framesReceived');
  let sent = 0;
  for (const ws of clients) {
    for (const frame of frames) {
      if (ws.readyState !== ws.OPEN) break;
      ws.send(frame);
      sent++;
    }
  }
  // Connections may be dropped by the client (e.g. ws closes on an invalid frame): wait for what can come.
  const started = Date.now();
  while (total('framesReceived') < before + sent && Date.now() - started < 20_000) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    if (clients.size === 0) break;
  }
  expect(total('framesReceived'), what).toBeGreaterThan(before);
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
  await until(connected, 10_000, 'reconnected after random bytes');
  phase('random bytes');

  // 2. Frames over maxFrameBytes, text and binary.
  const huge = 'x'.repeat(MAX_FRAME * 4);
  callTools();
  await blast(
    [huge, Buffer.alloc(MAX_FRAME * 4, 0x7b), JSON.stringify({ big: huge }), `"${'é'.repeat(MAX_FRAME)}"`],
    'huge frames',
  );
  await until(connected, 10_000, 'reconnected after huge frames');
  phase('huge frames');

  // 3. JSON nested 100 000 levels deep (an array, and an object whose size passes the limit).
  const bigBridge = sockets()[0] as SocketBackend;
  expect(deepArray(100_000).length).toBeLessThan(MAX_FRAME);
  callTools();
  await blast([deepArray(100_000), deepArray(100_000), deepObject(40_000)], 'deep JSON');
  await until(connected, 10_000, 'reconnected after deep JSON');
  phase('deep JSON');

  // 4. Hostile replies to real requests.
  mode = 'hostile-replies';
  for (let i = 0; i < 20; i++) callTools();
  const hostileResults = await Promise.all(calls.splice(0));
  mode = 'good';
  phase('hostile replies');

  // 5. Floods: 60 000 small frames per connection, junk and valid-looking ones mixed.
  const flood: string[] = [];
  for (let i = 0; i < 60_000; i++) {
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
  await blast(flood, 'flood');
  await until(connected, 10_000, 'reconnected after the flood');
  phase('flood');

  // Every call resolved with a well-formed result.
  const results = [...hostileResults, ...(await Promise.all(calls.splice(0)))];
  for (const result of results) {
    expect(typeof result.success).toBe('boolean');
    expect(() => JSON.stringify(result)).not.toThrow();
  }
  const malformed = total('malformedFrames') - malformedBefore;
  expect(malformed).toBeGreaterThan(90_000);
  expect(bigBridge.stats().malformedFrames).toBeGreaterThan(30_000);
  expect(warnings).toBeGreaterThan(0);

  // The backend behaves again: the tools work again.
  mode = 'good';
  await until(connected, 10_000, 'connected');
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
