/*
 * What a WebSocket backend's requests do to its health: a daemon that accepts and never answers
 * (request timeouts count against its breaker), a caller that aborts (not the backend's fault), the
 * socket tools' timeout (the backend's `requestTimeoutMs`, one owner), and a refused connection
 * (said as such, with the URL stripped of secrets). Real `ws` servers on 127.0.0.1; time through a
 * manual clock.
 */
import { once } from 'node:events';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import { createNodeSocketBackend } from '../src/backends/node-websocket.js';
import type { SocketBackend } from '../src/backends/socket.js';
import { createNodeBridge } from '../src/bridge/node.js';
import type { Bridge } from '../src/bridge/types.js';
import { createManualClock } from '../src/clock.js';
import { quietLogger, until } from './bridge-fixtures.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A daemon that accepts connections and reads every frame but never answers. */
async function startSilentDaemon(): Promise<{
  port: number;
  frames: Record<string, unknown>[];
  dropAll(): void;
}> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  const frames: Record<string, unknown>[] = [];
  server.on('connection', (socket: WebSocket) => {
    socket.on('message', (data) => frames.push(JSON.parse(String(data))));
  });
  await once(server, 'listening');
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  );
  return {
    port: (server.address() as net.AddressInfo).port,
    frames,
    dropAll: () => {
      for (const client of server.clients) client.terminate();
    },
  };
}

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function backendFor(url: string, clock = createManualClock(Date.now()), extra = {}): SocketBackend {
  const backend = createNodeSocketBackend({
    name: 'agents',
    url,
    clock,
    heartbeat: false,
    requestTimeoutMs: 1_000,
    breaker: { resetTimeoutMs: 60_000 },
    logger: quietLogger,
    ...extra,
  });
  cleanups.push(() => backend.stop());
  return backend;
}

describe('socket requests', () => {
  it('request timeouts count as failures of the backend: its breaker opens and health fails', async () => {
    const daemon = await startSilentDaemon();
    const clock = createManualClock(Date.now());
    const backend = backendFor(`ws://127.0.0.1:${daemon.port}/agents`, clock);
    backend.start();
    await until(() => backend.state === 'CONNECTED', 5_000, 'connected');
    const outcomes: string[] = [];
    for (let i = 0; i < 12 && backend.state === 'CONNECTED'; i++) {
      const reply = backend.request({ action: 'spawn' }).then(
        () => 'reply',
        (error: Error) => error.name,
      );
      await until(() => daemon.frames.length === i + 1, 5_000, `request ${i} written`);
      await clock.advance(1_000);
      outcomes.push(await reply);
    }
    expect(outcomes.every((outcome) => outcome === 'RequestTimeoutError')).toBe(true);
    expect(backend.breaker.state).toBe('OPEN');
    const health = backend.status();
    expect(health.status).toBe('fail');
    expect(health.state).toBe('SUSPENDED');
    expect(health.lastError).toMatch(/no reply to request/);
  });

  it('aborting a request drops it at once with signal.reason and is not a failure of the backend', async () => {
    const daemon = await startSilentDaemon();
    const clock = createManualClock(Date.now());
    const backend = backendFor(`ws://127.0.0.1:${daemon.port}/agents`, clock);
    backend.start();
    await until(() => backend.state === 'CONNECTED', 5_000, 'connected');
    for (let i = 0; i < 12; i++) {
      const controller = new AbortController();
      const reply = backend.request({ action: 'spawn' }, { signal: controller.signal });
      const reason = new Error(`caller gave up ${i}`);
      controller.abort(reason);
      await expect(reply).rejects.toBe(reason);
      expect(backend.stats().pendingRequests).toBe(0);
    }
    expect(backend.breaker.state).toBe('CLOSED');
    expect(backend.breaker.metrics().consecutiveFailures).toBe(0);
    expect(backend.status()).toMatchObject({ status: 'pass', state: 'CONNECTED' });
  });

  it('a refused connection says "connection refused" with the URL, without its secrets', async () => {
    const port = await closedPort();
    const backend = backendFor(`ws://user:hunter2@127.0.0.1:${port}/agents?token=s3cret`);
    backend.start();
    await until(() => backend.status().lastError !== null, 5_000, 'first failure');
    const { lastError, lastErrorAt } = backend.status();
    expect(lastError).toMatch(/connection refused/);
    expect(lastError).toContain(`127.0.0.1:${port}/agents`);
    expect(lastError).not.toMatch(/1006|hunter2|s3cret/);
    expect(typeof lastErrorAt).toBe('string');
  });

  it('after recovery the last error keeps its time, older than the last success', async () => {
    const daemon = await startSilentDaemon();
    const clock = createManualClock(Date.now());
    const backend = backendFor(`ws://127.0.0.1:${daemon.port}/agents`, clock);
    backend.start();
    await until(() => backend.state === 'CONNECTED', 5_000, 'connected');
    const failed = backend.request({ action: 'spawn' }).catch(() => {});
    await until(() => daemon.frames.length === 1, 5_000, 'request written');
    await clock.advance(1_000);
    await failed;
    const afterTimeout = backend.status();
    expect(afterTimeout.lastErrorAt).not.toBeNull();
    daemon.dropAll();
    await until(() => backend.state === 'RECONNECTING', 5_000, 'dropped');
    await clock.advance(5_000); // past the reconnect backoff
    await until(() => backend.stats().connections === 2, 5_000, 'reconnected');
    const health = backend.status();
    expect(health.status).toBe('pass');
    expect(Date.parse(health.lastSuccessAt as string)).toBeGreaterThan(
      Date.parse(health.lastErrorAt as string),
    );
  });
});

describe('socket tools', () => {
  let bridge: Bridge | undefined;
  afterEach(async () => {
    await bridge?.stop();
    bridge = undefined;
  });

  it.each([
    ['spawn_area_agent', 'agents', { agent_type: 'monitor', region: { x: 0, y: 0, width: 1, height: 1 } }],
    ['trigger_evolution', 'evolution', { seed_shader: 'void main(){}' }],
  ] as const)(
    '%s times out after its backend requestTimeoutMs (one owner of the setting)',
    async (tool, name, args) => {
      const daemon = await startSilentDaemon();
      const clock = createManualClock(Date.now());
      const url = `ws://127.0.0.1:${daemon.port}/${name}`;
      bridge = createNodeBridge({
        logger: quietLogger,
        clock,
        surface: false,
        backends: { [name]: { url, options: { requestTimeoutMs: 300, heartbeat: false } } },
      });
      await bridge.start();
      const socket = bridge.backend(name) as SocketBackend;
      await until(() => socket.state === 'CONNECTED', 5_000, 'connected');
      let settled: Record<string, unknown> | null = null;
      const call = bridge.callTool(tool, args).then((result) => {
        settled = result as Record<string, unknown>;
      });
      await until(() => daemon.frames.length === 1, 5_000, 'request written');
      await clock.advance(300);
      await until(() => settled !== null, 2_000, 'tool answered');
      await call;
      expect(settled).toMatchObject({ success: false, error_code: 'TIMEOUT' });
    },
  );
});
