/*
 * At-least-once delivery over a real `ws` server that is killed abruptly while messages sit unread.
 *
 * The server reads a first batch, then its TCP socket is paused (what the backend writes next stays
 * unread, and the confirmation pings go unanswered), then the server dies: its sockets are reset
 * without a closing handshake and it stops. (`ws.terminate()` alone would still parse what Node had
 * already buffered when the socket closes; a crashed process does not, so the raw socket is reset
 * under `ws`.) `send()` resolved for every message (written), yet the peer never read the second batch.
 * A new server on the same port must then receive every message at least once, in order of first
 * arrival, none lost.
 */
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import { NodeWebSocket } from '../src/backends/node-websocket.js';
import { createSocketBackend, type SocketBackend } from '../src/backends/socket.js';
import { until } from './support/net.js';

interface Server {
  wss: WebSocketServer;
  port: number;
  sockets: Array<{ ws: WebSocket; raw: net.Socket }>;
}

const servers = new Set<WebSocketServer>();
const backends = new Set<SocketBackend>();

async function startServer(port: number, arrivals: number[]): Promise<Server> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port });
  servers.add(wss);
  await once(wss, 'listening');
  const server: Server = { wss, port: (wss.address() as net.AddressInfo).port, sockets: [] };
  wss.on('connection', (ws: WebSocket, req: IncomingMessage) => {
    server.sockets.push({ ws, raw: req.socket });
    ws.on('message', (data) => arrivals.push((JSON.parse(data.toString()) as { seq: number }).seq));
  });
  return server;
}

/** Dies like a crashed process: every connection reset, whatever was unread discarded. */
async function crashServer(server: Server): Promise<void> {
  for (const { raw } of server.sockets) {
    for (const event of ['data', 'end', 'close', 'readable']) raw.removeAllListeners(event);
    raw.on('error', () => {});
    raw.resetAndDestroy();
  }
  servers.delete(server.wss);
  await new Promise<void>((resolve) => server.wss.close(() => resolve()));
}

async function stopServer(server: Server): Promise<void> {
  for (const { ws } of server.sockets) ws.terminate();
  servers.delete(server.wss);
  await new Promise<void>((resolve) => server.wss.close(() => resolve()));
}

function firstArrivals(arrivals: number[]): number[] {
  const seen = new Set<number>();
  return arrivals.filter((seq) => {
    if (seen.has(seq)) return false;
    seen.add(seq);
    return true;
  });
}

afterEach(async () => {
  for (const backend of backends) await backend.stop();
  backends.clear();
  for (const wss of servers) await new Promise<void>((resolve) => wss.close(() => resolve()));
  servers.clear();
});

describe('socket backend: redelivery of written but unconfirmed messages', () => {
  async function scenario(redeliverUnconfirmed: boolean | undefined) {
    const arrivals: number[] = [];
    const first = await startServer(0, arrivals);
    const backend = createSocketBackend({
      name: 'redelivery',
      url: `ws://127.0.0.1:${first.port}`,
      WebSocket: NodeWebSocket,
      retry: { baseDelayMs: 20, maxDelayMs: 100 },
      logger: { warn: () => {} },
      ...(redeliverUnconfirmed === undefined ? {} : { redeliverUnconfirmed }),
    });
    backends.add(backend);
    backend.start();
    await until(() => backend.state === 'CONNECTED');

    // Batch 1: read by the server and confirmed by a pong.
    await Promise.all(Array.from({ length: 20 }, (_, seq) => backend.send({ seq })));
    await until(() => arrivals.length === 20 && backend.stats().unconfirmed === 0);

    // Batch 2: written (send() resolves) while the server reads nothing.
    for (const { raw } of first.sockets) raw.pause();
    await Promise.all(Array.from({ length: 40 }, (_, i) => backend.send({ seq: 20 + i })));
    await new Promise((resolve) => setTimeout(resolve, 150)); // the confirmation ping goes unanswered
    expect(arrivals).toHaveLength(20);
    const unconfirmed = backend.stats().unconfirmed;

    // The server dies abruptly: the unread messages are gone with its buffers.
    await crashServer(first);
    await until(() => backend.state !== 'CONNECTED');
    // Batch 3: sent while down (queued).
    const queued = Array.from({ length: 20 }, (_, i) => backend.send({ seq: 60 + i }));

    const second = await startServer(first.port, arrivals);
    await Promise.all(queued);
    await until(() => arrivals.includes(79));
    await new Promise((resolve) => setTimeout(resolve, 100));
    await until(() => backend.stats().unconfirmed === 0);
    await stopServer(second);
    return { arrivals, unconfirmed, stats: backend.stats() };
  }

  it('resends them first after reconnecting: every message arrives at least once, in order', async () => {
    const { arrivals, unconfirmed, stats } = await scenario(undefined);
    expect(unconfirmed).toBe(40);
    expect(stats.redelivered).toBeGreaterThanOrEqual(40);
    expect(firstArrivals(arrivals)).toEqual(Array.from({ length: 80 }, (_, seq) => seq));
    // After the reconnect: the unconfirmed ones first, then the queued ones, each once.
    expect(arrivals.slice(20)).toEqual(Array.from({ length: 60 }, (_, i) => 20 + i));
  });

  it('loses them with redeliverUnconfirmed: false (send() resolved all the same)', async () => {
    const { arrivals, unconfirmed } = await scenario(false);
    expect(unconfirmed).toBe(0);
    expect(arrivals.slice(20)).toEqual(Array.from({ length: 20 }, (_, i) => 60 + i));
  });
});
