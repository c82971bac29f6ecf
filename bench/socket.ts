/*
 * Socket backend benchmark: detection, recovery, reconnect herd and memory, with partysocket and
 * reconnecting-websocket (their defaults) measured beside ours in the same run. Every number printed
 * here is measured by this run. Run alone: `npx tsx --expose-gc bench/socket.ts`.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import PartySocket from 'partysocket/ws';
import ReconnectingWebSocketModule from 'reconnecting-websocket';
import { type WebSocket, WebSocketServer, WebSocket as WS } from 'ws';
import {
  createSocketBackend,
  type SocketBackend,
  type WebSocketConstructor,
} from '../src/backends/socket.js';

// CommonJS package: `module.exports = ReconnectingWebSocket`, typed as an ES default export.
const ReconnectingWebSocket = ((ReconnectingWebSocketModule as unknown as { default?: unknown }).default ??
  ReconnectingWebSocketModule) as typeof ReconnectingWebSocketModule.default;

const silent = { warn: () => {}, info: () => {} };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const now = () => performance.now();
const round = (value: number, digits = 1) => Number(value.toFixed(digits));

/** `ws` that records the time of every construction (= connection attempt). */
function countingWebSocket(log: number[]) {
  return class CountingWebSocket extends WS {
    constructor(...args: ConstructorParameters<typeof WS>) {
      super(...args);
      log.push(now());
    }
  };
}

interface Server {
  wss: WebSocketServer;
  port: number;
  accepted: number;
}

async function startServer(port = 0): Promise<Server> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port });
  await once(wss, 'listening');
  const server: Server = { wss, port: (wss.address() as AddressInfo).port, accepted: 0 };
  wss.on('connection', () => server.accepted++);
  return server;
}

async function killServer(server: Server): Promise<void> {
  for (const socket of server.wss.clients) socket.terminate();
  await new Promise<void>((resolve) => server.wss.close(() => resolve()));
}

async function waitFor(predicate: () => boolean, capMs: number): Promise<number | null> {
  const started = now();
  while (!predicate()) {
    if (now() - started > capMs) return null;
    await sleep(1);
  }
  return now() - started;
}

/** A client under test, whatever its library. */
interface Client {
  isOpen(): boolean;
  /** Called when the client notices the connection is gone (close event / status fail). */
  onDown(listener: () => void): void;
  close(): void | Promise<void>;
}

type Library = 'ours' | 'partysocket' | 'reconnecting-websocket';
const libraries: Library[] = ['ours', 'partysocket', 'reconnecting-websocket'];

function createClient(
  library: Library,
  url: string,
  Ctor: unknown,
  index: number,
  heartbeat?: boolean,
): Client {
  if (library === 'ours') {
    const backend: SocketBackend = createSocketBackend({
      name: `bench-${index}`,
      url,
      WebSocket: Ctor as unknown as WebSocketConstructor,
      logger: silent,
      ...(heartbeat ? { heartbeat: { intervalMs: 1000, timeoutMs: 500 } } : {}),
    });
    backend.start();
    return {
      isOpen: () => backend.state === 'CONNECTED',
      onDown(listener) {
        backend.subscribe(() => {
          if (backend.status().status === 'fail') listener();
        });
      },
      close: () => backend.stop(),
    };
  }
  const socket =
    library === 'partysocket'
      ? new PartySocket(url, undefined, { WebSocket: Ctor })
      : new ReconnectingWebSocket(url, [], { WebSocket: Ctor });
  return {
    isOpen: () => socket.readyState === 1,
    onDown(listener) {
      socket.addEventListener('close', () => listener());
    },
    close: () => socket.close(),
  };
}

// ——— detection and recovery ———

async function detection(): Promise<void> {
  const rows: Record<string, unknown>[] = [];
  for (const library of libraries) {
    // closed socket: the server is killed (sockets terminated, listener closed)
    const server = await startServer();
    const client = createClient(library, `ws://127.0.0.1:${server.port}`, WS, 0, true);
    await waitFor(() => client.isOpen(), 5000);
    let downAt: number | null = null;
    client.onDown(() => {
      downAt ??= now();
    });
    const killedAt = now();
    await killServer(server);
    await waitFor(() => downAt !== null, 10_000);
    const closedMs = downAt === null ? null : (downAt as number) - killedAt;
    await client.close();

    // silent peer: the server stops reading (no pongs, no close frame)
    const quiet = await startServer();
    const peers: WebSocket[] = [];
    quiet.wss.on('connection', (socket) => peers.push(socket));
    const victim = createClient(library, `ws://127.0.0.1:${quiet.port}`, WS, 1, true);
    await waitFor(() => victim.isOpen() && peers.length > 0, 5000);
    let silentDownAt: number | null = null;
    victim.onDown(() => {
      silentDownAt ??= now();
    });
    const silencedAt = now();
    for (const peer of peers) (peer as unknown as { _socket: { pause(): void } })._socket.pause();
    await waitFor(() => silentDownAt !== null, 10_000);
    const silentMs = silentDownAt === null ? null : (silentDownAt as number) - silencedAt;
    await victim.close();
    await killServer(quiet);

    rows.push({
      library,
      'closed socket → detected (ms)': closedMs === null ? 'not detected in 10 s' : round(closedMs),
      'silent peer → detected (ms)': silentMs === null ? 'not detected in 10 s' : round(silentMs),
      bound: library === 'ours' ? '≤ 50 ms / ≤ 1000+500+50 ms (heartbeat 1 s + 0.5 s)' : '',
    });
  }
  console.log('\nDetection: kill server → client notices (ours: status() fail)');
  console.table(rows);
}

async function recovery(): Promise<void> {
  const rows: Record<string, unknown>[] = [];
  for (const downMs of [0, 300, 1000, 3000]) {
    const server = await startServer();
    const backend = createSocketBackend({
      name: 'recovery',
      url: `ws://127.0.0.1:${server.port}`,
      WebSocket: WS as unknown as WebSocketConstructor,
      logger: silent,
    });
    let plannedAt = 0;
    let plannedMs = 0;
    backend.subscribe(() => {
      if (backend.state === 'RECONNECTING' && backend.stats().lastBackoffMs !== plannedMs) {
        plannedAt = now();
        plannedMs = backend.stats().lastBackoffMs;
      }
    });
    backend.start();
    await waitFor(() => backend.state === 'CONNECTED', 5000);
    await killServer(server);
    await sleep(downMs);
    const restartedAt = now();
    await startServer(server.port).then((restarted) => {
      server.wss = restarted.wss;
    });
    const stateAtRestart = backend.state;
    const pending =
      stateAtRestart === 'RECONNECTING' ? Math.max(0, plannedAt + plannedMs - restartedAt) : null;
    const took = await waitFor(() => backend.state === 'CONNECTED', 15_000);
    rows.push({
      'down (ms)': downMs,
      'state at restart': stateAtRestart,
      'pending backoff (ms)': pending === null ? 'breaker OPEN: waits for its probe' : round(pending),
      'restart → CONNECTED (ms)': took === null ? 'not in 15 s' : round(took),
      'within pending + 50 ms':
        pending === null ? 'n/a' : took !== null && took <= pending + 50 ? 'yes' : 'NO',
    });
    await backend.stop();
    await killServer(server);
  }
  console.log('\nRecovery: restart → CONNECTED vs the backoff delay pending at the restart (ours, defaults)');
  console.table(rows);
}

// ——— herd ———

async function herd(library: Library, count = 200, downMs = 3000): Promise<Record<string, unknown>> {
  const attempts: number[] = [];
  const Ctor = countingWebSocket(attempts);
  const server = await startServer();
  const url = `ws://127.0.0.1:${server.port}`;
  const clients = Array.from({ length: count }, (_, i) => createClient(library, url, Ctor, i));
  await waitFor(() => server.wss.clients.size === count, 20_000);
  await killServer(server);
  await sleep(downMs);
  const restartedAt = now();
  const restarted = await startServer(server.port);
  const allBack = await waitFor(() => restarted.wss.clients.size >= count, 20_000);
  const windows = new Map<number, number>();
  for (const at of attempts) {
    if (at < restartedAt) continue;
    const window = Math.floor((at - restartedAt) / 100);
    windows.set(window, (windows.get(window) ?? 0) + 1);
  }
  const after = [...windows.values()].reduce((sum, n) => sum + n, 0);
  await Promise.all(clients.map((client) => client.close()));
  await killServer(restarted);
  return {
    library,
    clients: count,
    'attempts after restart': after,
    'max per 100 ms window': Math.max(0, ...windows.values()),
    'all reconnected after (ms)': allBack === null ? 'not in 20 s' : round(allBack, 0),
    reconnected: restarted.accepted,
  };
}

// ——— memory ———

const serverScript = `
const { WebSocketServer } = require('ws');
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
wss.on('listening', () => console.log(wss.address().port));
`;

async function memory(count = 500): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) {
    console.log('\nMemory: skipped (run with --expose-gc, e.g. `npx tsx --expose-gc bench/socket.ts`)');
    return;
  }
  // The server runs in a child process so that its per-connection objects are not counted.
  const child = spawn(process.execPath, ['-e', serverScript], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
  const port = Number(chunk.toString().trim());
  const heap = () => {
    gc();
    gc();
    return process.memoryUsage();
  };
  const rows: Record<string, unknown>[] = [];
  const base = heap();
  const backends = Array.from({ length: count }, (_, i) =>
    createSocketBackend({
      name: `mem-${i}`,
      url: `ws://127.0.0.1:${port}`,
      WebSocket: WS as unknown as WebSocketConstructor,
      logger: silent,
    }),
  );
  const idle = heap();
  rows.push({
    state: 'idle (created, not started)',
    instances: count,
    'heap per backend (KB)': round((idle.heapUsed - base.heapUsed) / count / 1024, 2),
    'heap+external per backend (KB)': round(
      (idle.heapUsed + idle.external - base.heapUsed - base.external) / count / 1024,
      2,
    ),
  });
  for (const backend of backends) backend.start();
  await waitFor(() => backends.every((backend) => backend.state === 'CONNECTED'), 20_000);
  await sleep(200);
  const connected = heap();
  rows.push({
    state: 'connected (ws client socket included)',
    instances: count,
    'heap per backend (KB)': round((connected.heapUsed - base.heapUsed) / count / 1024, 2),
    'heap+external per backend (KB)': round(
      (connected.heapUsed + connected.external - base.heapUsed - base.external) / count / 1024,
      2,
    ),
  });
  // The same number of bare ws clients, for scale: what the socket itself costs.
  await Promise.all(backends.map((backend) => backend.stop()));
  await sleep(200);
  const bareBase = heap();
  const bare = Array.from({ length: count }, () => new WS(`ws://127.0.0.1:${port}`));
  await waitFor(() => bare.every((socket) => socket.readyState === 1), 20_000);
  const bareConnected = heap();
  rows.push({
    state: 'bare ws client, connected (reference)',
    instances: count,
    'heap per backend (KB)': round((bareConnected.heapUsed - bareBase.heapUsed) / count / 1024, 2),
    'heap+external per backend (KB)': round(
      (bareConnected.heapUsed + bareConnected.external - bareBase.heapUsed - bareBase.external) /
        count /
        1024,
      2,
    ),
  });
  for (const socket of bare) socket.terminate();
  child.kill();
  console.log('\nMemory per socket backend (target ≤ 20 KB), after GC');
  console.table(rows);
}

/**
 * Runs every section; `SOCKET_BENCH=detection,recovery,herd,memory` (any subset) picks some.
 */
export async function runSocketBench(): Promise<void> {
  const only = process.env.SOCKET_BENCH?.split(',').map((part) => part.trim());
  const wants = (section: string) => !only || only.includes(section);
  console.log('Socket backend benchmark (127.0.0.1, real ws servers)');
  if (wants('detection')) await detection();
  if (wants('recovery')) await recovery();
  if (wants('herd')) {
    const rows: Record<string, unknown>[] = [];
    for (const library of libraries) rows.push(await herd(library));
    console.log(
      '\nHerd: 200 clients, server killed, down 3 s, restarted on the same port (target ≤ 20 / 100 ms, all back ≤ 5 s)',
    );
    console.table(rows);
  }
  if (wants('memory')) await memory();
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  runSocketBench().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
