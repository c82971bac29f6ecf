/*
 * The lab's WebSocket backends on one server: evolution and agents (request/response by
 * `requestId`) and the a2a router (envelopes checked, recorded once per `message_id`), each with
 * its faults: down (refused or reset), silent (frames dropped), latency, 503 on upgrade, errors.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import { checkHostAndOrigin, hostHeadersFor } from '../net/loopback.js';
import type { LabCore } from './core.js';
import { refuseUpgrade, sendJson } from './http-util.js';
import {
  a2aErrorReport,
  a2aReply,
  failure,
  handleAgentsFrame,
  handleEvolutionFrame,
  pingReply,
  validateEnvelope,
} from './protocols.js';
import { type A2AEnvelope, type Lab, WS_BACKENDS, type WsBackend, type WsPathStats } from './types.js';

/** How many A2A message ids the router remembers to drop duplicates. */
const SEEN_IDS_LIMIT = 100_000;
/** The path of each WebSocket backend. */
export const WS_PATHS: Record<string, WsBackend> = {
  '/evolution': 'evolution',
  '/agents': 'agents',
  '/a2a': 'a2a',
};

/** What the a2a router recorded, and who waits for it. */
export interface A2AInbox {
  received: A2AEnvelope[];
  /** Copies dropped by `message_id` (senders deliver at least once). */
  duplicates: number;
  waiters: Set<{ n: number; resolve: (m: A2AEnvelope[]) => void; reject: (e: Error) => void }>;
}

/** The WebSocket backends of a lab: their server (not listening yet), sockets and counters. */
export interface WsBackends {
  server: http.Server;
  stats: Record<WsBackend, WsPathStats>;
  sockets: Record<WsBackend, Set<WebSocket>>;
  servers: Record<WsBackend, WebSocketServer>;
  /** Raw TCP connections of the server, destroyed on stop. */
  rawSockets: Set<Socket>;
  inbox: A2AInbox;
  /** The lab's `a2a` API over the router's inbox. */
  a2a: Lab['a2a'];
}

function emptyWsStats(): WsPathStats {
  return {
    connections: 0,
    connectionsTotal: 0,
    refusedUpgrades: 0,
    messages: 0,
    malformed: 0,
    invalid: 0,
    dropped: 0,
    injectedErrors: 0,
    replies: 0,
  };
}

function parseFrame(data: RawData, isBinary: boolean): Record<string, unknown> | string {
  if (isBinary) return 'binary frames are not accepted';
  const text = Array.isArray(data)
    ? Buffer.concat(data).toString('utf8')
    : Buffer.from(data as Buffer).toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'frame is not JSON';
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return 'frame is not a JSON object';
  return value as Record<string, unknown>;
}

/** Creates the WebSocket backends' server; the caller listens on it. */
export function createWsBackends(core: LabCore): WsBackends {
  const stats = {} as Record<WsBackend, WsPathStats>;
  const sockets = {} as Record<WsBackend, Set<WebSocket>>;
  const wss = {} as Record<WsBackend, WebSocketServer>;
  for (const backend of WS_BACKENDS) {
    stats[backend] = emptyWsStats();
    sockets[backend] = new Set();
    wss[backend] = new WebSocketServer({
      noServer: true,
      autoPong: false,
      clientTracking: false,
      maxPayload: core.maxPayload,
    });
  }
  const rawSockets = new Set<Socket>();
  const inbox: A2AInbox = { received: [], duplicates: 0, waiters: new Set() };
  // The router records each message_id once: senders deliver at least once (a message written just
  // before a reset is written again after the reconnect). Remembers the last SEEN_IDS_LIMIT ids.
  const seenIds = new Set<string>();
  const registry = new Map<string, unknown>();
  let agentNumber = 0;
  const allWsDown = () => WS_BACKENDS.every((b) => core.faults.get(b).down);

  const reply = (backend: WsBackend, ws: WebSocket, message: unknown) => {
    core.later(core.faults.get(backend).latencyMs, () => {
      const f = core.faults.get(backend);
      if (ws.readyState !== ws.OPEN || f.silent || f.down) return;
      ws.send(JSON.stringify(message));
      stats[backend].replies++;
    });
  };

  const recordA2A = (envelope: A2AEnvelope) => {
    inbox.received.push(envelope);
    for (const waiter of [...inbox.waiters]) {
      if (inbox.received.length >= waiter.n) {
        inbox.waiters.delete(waiter);
        waiter.resolve(inbox.received.map((m) => structuredClone(m)));
      }
    }
  };

  const onFrame = (backend: WsBackend, ws: WebSocket, data: RawData, isBinary: boolean) => {
    const pathStats = stats[backend];
    if (core.faults.get(backend).silent || core.faults.get(backend).down) {
      pathStats.dropped++;
      return;
    }
    pathStats.messages++;
    const frame = parseFrame(data, isBinary);
    if (typeof frame === 'string') {
      pathStats.malformed++;
      core.log.warn?.('lab: malformed frame', { backend, reason: frame });
      reply(
        backend,
        ws,
        backend === 'a2a'
          ? a2aErrorReport(null, 'MALFORMED_FRAME', frame)
          : failure(null, `malformed frame: ${frame}`),
      );
      return;
    }
    const pong = pingReply(frame);
    if (pong) {
      reply(backend, ws, pong);
      return;
    }
    if (backend === 'a2a') {
      const checked = validateEnvelope(frame);
      if (!checked.ok) {
        pathStats.invalid++;
        reply(backend, ws, a2aErrorReport(frame, 'INVALID_ENVELOPE', checked.error));
        return;
      }
      const id = checked.envelope.message_id;
      if (seenIds.has(id)) {
        inbox.duplicates++;
        return;
      }
      if (core.faults.shouldFail('a2a')) {
        pathStats.injectedErrors++;
        reply(backend, ws, a2aErrorReport(frame, 'INJECTED_FAILURE', 'lab: injected failure (errorRate)'));
        return;
      }
      seenIds.add(id);
      if (seenIds.size > SEEN_IDS_LIMIT) seenIds.delete(seenIds.values().next().value as string);
      recordA2A(checked.envelope);
      const answer = a2aReply(checked.envelope, registry);
      if (answer) reply(backend, ws, answer);
      return;
    }
    const result =
      backend === 'evolution' ? handleEvolutionFrame(frame) : handleAgentsFrame(frame, () => ++agentNumber);
    if (!result.valid) {
      pathStats.invalid++;
      reply(backend, ws, result.reply);
      return;
    }
    if (core.faults.shouldFail(backend)) {
      pathStats.injectedErrors++;
      reply(backend, ws, failure(frame, 'lab: injected failure (errorRate)'));
      return;
    }
    reply(backend, ws, result.reply);
  };

  const onConnection = (backend: WsBackend, ws: WebSocket) => {
    sockets[backend].add(ws);
    stats[backend].connectionsTotal++;
    ws.on('close', () => sockets[backend].delete(ws));
    ws.on('error', (error) => core.log.warn?.('lab: socket error', { backend, error: error.message }));
    ws.on('ping', (data) => {
      const f = core.faults.get(backend);
      if (!f.silent && !f.down && ws.readyState === ws.OPEN) ws.pong(data);
    });
    ws.on('message', (data, isBinary) => {
      try {
        onFrame(backend, ws, data, isBinary);
      } catch (error) {
        core.log.error?.('lab: frame handler failed', { backend, error: String(error) });
      }
    });
  };

  const server = http.createServer((_req, res) => {
    sendJson(
      res,
      426,
      { error: 'WebSocket upgrade required', paths: Object.keys(WS_PATHS) },
      { Upgrade: 'websocket' },
    );
  });
  server.on('connection', (socket: Socket) => {
    if (allWsDown()) {
      core.resetSocket(socket);
      return;
    }
    rawSockets.add(socket);
    socket.on('close', () => rawSockets.delete(socket));
  });
  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => {});
    const path = new URL(req.url ?? '/', 'http://lab').pathname;
    const backend = WS_PATHS[path];
    if (!backend) {
      refuseUpgrade(socket, 404, `no backend at ${path}`);
      return;
    }
    const pathStats = stats[backend];
    const forbidden = checkHostAndOrigin(req.headers, {
      allowedHosts: hostHeadersFor(core.host, core.ports.ws),
    });
    if (forbidden) {
      pathStats.refusedUpgrades++;
      refuseUpgrade(socket, 403, forbidden);
      return;
    }
    const f = core.faults.get(backend);
    if (f.down || core.stopped) {
      pathStats.refusedUpgrades++;
      refuseUpgrade(socket, 503, `${backend} is down`);
      return;
    }
    if (f.status503) {
      pathStats.refusedUpgrades++;
      refuseUpgrade(socket, 503, `${backend} is unavailable`, {
        'Retry-After': String(f.status503.retryAfterSeconds),
      });
      return;
    }
    wss[backend].handleUpgrade(req, socket, head, (ws) => onConnection(backend, ws));
  });

  const a2a: Lab['a2a'] = {
    received: () => inbox.received.map((m) => structuredClone(m)),
    count: () => inbox.received.length,
    clear: () => {
      inbox.received.length = 0;
    },
    waitForCount: (n, timeoutMs = 5000) => {
      if (inbox.received.length >= n) return Promise.resolve(a2a.received());
      return new Promise((resolve, reject) => {
        const waiter = {
          n,
          resolve: (m: A2AEnvelope[]) => {
            clearTimeout(timer);
            resolve(m);
          },
          reject: (e: Error) => {
            clearTimeout(timer);
            reject(e);
          },
        };
        const timer = setTimeout(() => {
          inbox.waiters.delete(waiter);
          reject(new Error(`lab: ${inbox.received.length} of ${n} a2a messages after ${timeoutMs} ms`));
        }, timeoutMs);
        inbox.waiters.add(waiter);
      });
    },
    broadcast: (message) => {
      const text = JSON.stringify(message);
      let sent = 0;
      for (const ws of sockets.a2a) {
        if (ws.readyState === ws.OPEN) {
          ws.send(text);
          sent++;
        }
      }
      return sent;
    },
  };

  return { server, stats, sockets, servers: wss, rawSockets, inbox, a2a };
}
