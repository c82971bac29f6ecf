import { once } from 'node:events';
import net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import {
  BackendStoppedError,
  ConnectionLostError,
  QueueFullError,
  RequestTimeoutError,
} from '../src/backends/errors.js';
import { NodeWebSocket } from '../src/backends/node-websocket.js';
import {
  createSocketBackend,
  type SocketBackend,
  type SocketBackendOptions,
} from '../src/backends/socket.js';
import { freePort } from './support/net.js';

interface TestServer {
  wss: WebSocketServer;
  port: number;
  received: string[];
  connections: number;
  sockets: Set<WebSocket>;
}

const servers = new Set<WebSocketServer>();
const backends = new Set<SocketBackend>();
const netServers = new Set<net.Server>();

async function startServer(
  port = 0,
  options: { autoPong?: boolean; onConnection?: (socket: WebSocket) => void } = {},
): Promise<TestServer> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port, autoPong: options.autoPong ?? true });
  servers.add(wss);
  await once(wss, 'listening');
  const server: TestServer = {
    wss,
    port: (wss.address() as net.AddressInfo).port,
    received: [],
    connections: 0,
    sockets: new Set(),
  };
  wss.on('connection', (socket) => {
    server.connections++;
    server.sockets.add(socket);
    socket.on('close', () => server.sockets.delete(socket));
    socket.on('message', (data) => {
      const text = data.toString();
      server.received.push(text);
      let message: { requestId?: string; action?: string } | null = null;
      try {
        message = JSON.parse(text);
      } catch {}
      if (message?.requestId && message.action !== 'ignore') {
        socket.send(JSON.stringify({ requestId: message.requestId, success: true, echo: message.action }));
      }
    });
    options.onConnection?.(socket);
  });
  return server;
}

/** Kills a server the hard way: every socket terminated, the listener closed. */
async function killServer(server: TestServer): Promise<void> {
  for (const socket of server.wss.clients) socket.terminate();
  await new Promise<void>((resolve) => server.wss.close(() => resolve()));
  servers.delete(server.wss);
}

const quiet = () => ({ warn: vi.fn(), info: vi.fn() });

function backend(port: number, options: Partial<SocketBackendOptions> = {}): SocketBackend {
  const created = createSocketBackend({
    name: 'evolution',
    url: `ws://127.0.0.1:${port}/evolution`,
    WebSocket: NodeWebSocket,
    logger: quiet(),
    connectTimeoutMs: 300,
    minUptimeMs: 300,
    retry: { baseDelayMs: 20, maxDelayMs: 100 },
    heartbeat: { intervalMs: 100, timeoutMs: 100 },
    ...options,
  });
  backends.add(created);
  return created;
}

async function waitFor(predicate: () => boolean, timeoutMs = 3000, label = 'condition'): Promise<number> {
  const started = performance.now();
  while (!predicate()) {
    if (performance.now() - started > timeoutMs) throw new Error(`timed out waiting for ${label}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  return performance.now() - started;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

afterEach(async () => {
  for (const created of backends) await created.stop();
  backends.clear();
  for (const wss of servers) {
    for (const socket of wss.clients) socket.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  }
  servers.clear();
  for (const server of netServers) server.close();
  netServers.clear();
});

describe('createSocketBackend against real ws servers', () => {
  it('connects, reports pass, correlates requests by requestId and delivers unsolicited frames', async () => {
    const server = await startServer(0, {
      onConnection: (socket) => socket.send(JSON.stringify({ type: 'hello' })),
    });
    const socket = backend(server.port);
    const unsolicited: unknown[] = [];
    socket.onMessage((message) => unsolicited.push(message));
    expect(socket.status()).toMatchObject({ kind: 'websocket', status: 'warn', state: 'IDLE' });
    socket.start();
    await waitFor(() => socket.state === 'CONNECTED');
    expect(socket.status()).toMatchObject({ status: 'pass', breaker: 'CLOSED', lastError: null });
    const [a, b] = await Promise.all([
      socket.request({ requestId: 'evo_1_a', action: 'evolve' }, { timeoutMs: 1000 }),
      socket.request({ action: 'spawn' }, { timeoutMs: 1000 }),
    ]);
    expect(a).toEqual({ requestId: 'evo_1_a', success: true, echo: 'evolve' });
    expect(b).toMatchObject({ success: true, echo: 'spawn' });
    await waitFor(() => unsolicited.length === 1);
    expect(unsolicited).toEqual([{ type: 'hello' }]);
    await socket.probe();
    expect(socket.status().latencyMs).not.toBeNull();
  });

  it('detects a killed server at once, queues 500 messages, delivers them in order exactly once after restart', async () => {
    const server = await startServer();
    const socket = backend(server.port);
    socket.start();
    await waitFor(() => socket.state === 'CONNECTED');
    await killServer(server);
    const detectMs = await waitFor(() => socket.status().status === 'fail', 1000, 'fail');
    expect(detectMs).toBeLessThan(50);
    const sends = Array.from({ length: 500 }, (_, i) => socket.send({ seq: i }));
    expect(socket.queueLength).toBe(500);
    const restarted = await startServer(server.port);
    await Promise.all(sends);
    expect(socket.state).toBe('CONNECTED');
    await waitFor(() => restarted.received.length >= 500);
    await sleep(30);
    expect(restarted.received.map((text) => JSON.parse(text).seq)).toEqual(
      Array.from({ length: 500 }, (_, i) => i),
    );
    expect(socket.queueLength).toBe(0);
  });

  it('times out a handshake that never completes and keeps retrying', async () => {
    const hanging = net.createServer(() => {}); // accepts TCP, never answers the upgrade
    netServers.add(hanging);
    hanging.listen(0, '127.0.0.1');
    await once(hanging, 'listening');
    const { port } = hanging.address() as net.AddressInfo;
    const socket = backend(port, { connectTimeoutMs: 100 });
    socket.start();
    const elapsed = await waitFor(() => socket.status().lastError === 'connect timeout', 1000);
    expect(elapsed).toBeGreaterThanOrEqual(90);
    expect(socket.status().status).toBe('fail');
    await waitFor(() => socket.stats().connectAttempts >= 2, 1000);
  });

  it('declares a silent peer (no pongs) dead within heartbeat interval + timeout', async () => {
    const server = await startServer(0, { autoPong: false });
    const socket = backend(server.port, { heartbeat: { intervalMs: 80, timeoutMs: 60 } });
    socket.start();
    await waitFor(() => socket.state === 'CONNECTED');
    const elapsed = await waitFor(() => socket.status().status === 'fail', 1000, 'dead peer');
    expect(elapsed).toBeLessThan(80 + 60 + 60);
    expect(socket.status().lastError).toMatch(/heartbeat/);
    // and it is replaced: a fresh connection comes up
    await waitFor(() => server.connections >= 2, 1000);
  });

  it('counts and logs malformed frames without dropping the connection', async () => {
    const logger = quiet();
    const server = await startServer(0, {
      onConnection: (peer) => {
        peer.send('not json at all');
        peer.send('[1,2,3]');
        peer.send('{"requestId": 5}');
        peer.send(JSON.stringify({ blob: 'x'.repeat(2000) }));
        peer.send(Buffer.from([0xff, 0xfe]), { binary: true });
        peer.send(JSON.stringify({ type: 'ok' }));
      },
    });
    const socket = backend(server.port, { maxFrameBytes: 1024, logger });
    const seen: unknown[] = [];
    socket.onMessage((message) => seen.push(message));
    socket.start();
    await waitFor(() => seen.length === 1);
    expect(seen).toEqual([{ type: 'ok' }]);
    expect(socket.stats().malformedFrames).toBe(5);
    expect(logger.warn).toHaveBeenCalledTimes(5);
    expect(socket.state).toBe('CONNECTED');
  });

  it('keeps reconnect attempts within the policy against a flapping server', async () => {
    const port = await freePort();
    const base = 20;
    const max = 160;
    const socket = backend(port, { retry: { baseDelayMs: base, maxDelayMs: max }, minUptimeMs: 10_000 });
    socket.start();
    let server: TestServer | null = null;
    for (let cycle = 0; cycle < 6; cycle++) {
      server = await startServer(port);
      await sleep(100);
      await killServer(server);
      server = null;
      await sleep(100);
    }
    const stats = socket.stats();
    // Never up for minUptime: the exponent only grows, so delay i is drawn from [0, min(max, base·2^i)).
    stats.backoffHistory.forEach((delay, i) => {
      expect(delay).toBeLessThan(Math.min(max, base * 2 ** i));
    });
    const probes = socket.breaker.metrics().openCount;
    expect(stats.connectAttempts).toBeLessThanOrEqual(stats.backoffHistory.length + 1 + probes);
    // 1.2 s of flapping; the full window is 160 ms, so no more than ~1200/80 + slack attempts on average.
    expect(stats.connectAttempts).toBeLessThan(40);
    expect(stats.connections).toBeGreaterThanOrEqual(2);
  });

  it.each([1008, 4401, 4403])('suspends with lastError on close code %i instead of looping', async (code) => {
    const server = await startServer(0, { onConnection: (peer) => peer.close(code, 'not allowed') });
    const socket = backend(server.port);
    socket.start();
    await waitFor(() => socket.state === 'SUSPENDED');
    expect(socket.status()).toMatchObject({
      status: 'fail',
      lastError: `closed with code ${code}: not allowed`,
    });
    await sleep(150);
    expect(server.connections).toBe(1);
    expect(socket.state).toBe('SUSPENDED');
    socket.reconnect();
    await waitFor(() => server.connections === 2);
  });

  it('rejects a request on timeout, and a written request at once when the connection drops', async () => {
    const server = await startServer();
    const socket = backend(server.port);
    socket.start();
    await waitFor(() => socket.state === 'CONNECTED');
    await expect(socket.request({ action: 'ignore' }, { timeoutMs: 40 })).rejects.toBeInstanceOf(
      RequestTimeoutError,
    );
    const inFlight = socket.request({ action: 'ignore' }, { timeoutMs: 5000 });
    const outcome = inFlight.then(
      () => 'resolved',
      (error: unknown) => error,
    );
    await waitFor(() => server.received.length === 2);
    const killedAt = performance.now();
    await killServer(server);
    const error = await outcome;
    expect(error).toBeInstanceOf(ConnectionLostError);
    expect(performance.now() - killedAt).toBeLessThan(100);
    expect(socket.stats().pendingRequests).toBe(0);
  });

  it('rejects with QueueFullError when the queue is full, and stop() rejects what is queued', async () => {
    const port = await freePort();
    const socket = backend(port, { queueLimit: 3 });
    socket.start();
    const queued = [1, 2, 3].map((i) => socket.send({ i }).catch((error: unknown) => error));
    await expect(socket.send({ i: 4 })).rejects.toBeInstanceOf(QueueFullError);
    const request = socket.request({ action: 'x' }).catch((error: unknown) => error);
    expect(socket.queueLength).toBe(3);
    await socket.stop();
    for (const outcome of await Promise.all(queued)) expect(outcome).toBeInstanceOf(BackendStoppedError);
    expect(await request).toBeInstanceOf(QueueFullError);
    expect(socket.state).toBe('CLOSED');
    expect(socket.status().status).toBe('fail');
    await expect(socket.send('late')).rejects.toBeInstanceOf(BackendStoppedError);
  });

  it('suspends while its breaker is OPEN and reconnects through the HALF_OPEN probe', async () => {
    const port = await freePort();
    const socket = backend(port, {
      retry: { maxRetries: 1, baseDelayMs: 10, maxDelayMs: 20 },
      breaker: { resetTimeoutMs: 150, resetJitter: 0 },
    });
    socket.start();
    await waitFor(() => socket.state === 'SUSPENDED');
    expect(socket.status()).toMatchObject({ breaker: 'OPEN', status: 'fail' });
    const attempts = socket.stats().connectAttempts;
    await startServer(port);
    await waitFor(() => socket.state === 'CONNECTED', 2000);
    expect(socket.status().breaker).toBe('CLOSED');
    expect(socket.stats().connectAttempts).toBeLessThanOrEqual(attempts + 3);
  });

  it('works with the lazily loaded ws default constructor', async () => {
    const server = await startServer();
    const socket = createSocketBackend({
      name: 'agents',
      url: `ws://127.0.0.1:${server.port}/agents`,
      logger: quiet(),
    });
    backends.add(socket);
    socket.start();
    await waitFor(() => socket.state === 'CONNECTED');
    await socket.send({ hello: 1 });
    await waitFor(() => server.received.length === 1);
  });
});
