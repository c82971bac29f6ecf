/**
 * The lab: local backends that speak backends.md's wire formats (evolution, agents and a2a over
 * WebSocket, an OpenAI-compatible LM Studio over HTTP), with faults injected per backend through
 * `lab.fault()` or a token-protected control API on 127.0.0.1.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import { checkHostAndOrigin, hostHeadersFor, isLoopbackOrigin } from '../net/loopback.js';
import { FaultTable, faultPatchSchema, formatIssues } from './faults.js';
import { chatCompletion, modelsResponse } from './openai.js';
import {
  a2aErrorReport,
  a2aReply,
  failure,
  handleAgentsFrame,
  handleEvolutionFrame,
  pingReply,
  validateEnvelope,
} from './protocols.js';
import { hasBearerToken } from './security.js';
import {
  type A2AEnvelope,
  type FaultCommand,
  type FaultPatch,
  type FaultState,
  type HttpStats,
  isLabBackend,
  LAB_BACKENDS,
  type Lab,
  type LabBackend,
  type LabLogger,
  type LabOptions,
  type LabStats,
  WS_BACKENDS,
  type WsBackend,
  type WsPathStats,
} from './types.js';

export { FaultTable, mulberry32, noFaults, parseFaultCommand } from './faults.js';
export { chatCompletion, modelsResponse } from './openai.js';
export { A2A_ROUTER_ID, A2A_SCHEMA, evolve, validateEnvelope } from './protocols.js';
export * from './types.js';

const CONTROL_HOST = '127.0.0.1';
const CONTROL_BODY_LIMIT = 64 * 1024;
/** How many A2A message ids the router remembers to drop duplicates. */
const SEEN_IDS_LIMIT = 100_000;
const WS_PATHS: Record<string, WsBackend> = { '/evolution': 'evolution', '/agents': 'agents', '/a2a': 'a2a' };

function displayHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '[::]') return '127.0.0.1';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
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

function listen(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) =>
      reject(new Error(`lab: cannot listen on ${host}:${port}: ${error.message}`));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function sendJson(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: http.OutgoingHttpHeaders = {},
) {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(text);
}

/** Answers a raw upgrade socket with a plain HTTP status and closes it. */
function refuseUpgrade(socket: Duplex, status: number, reason: string, headers: Record<string, string> = {}) {
  if (socket.destroyed) return;
  const body = `${reason}\n`;
  const lines = [
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? 'Error'}`,
    'Connection: close',
    'Content-Type: text/plain; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
}

function readBody(req: http.IncomingMessage, limit: number): Promise<string | { tooLarge: true }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        done = true;
        resolve({ tooLarge: true });
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!done) {
        done = true;
        resolve(Buffer.concat(chunks).toString('utf8'));
      }
    });
    req.on('error', (error) => {
      if (!done) {
        done = true;
        reject(error);
      }
    });
  });
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

/** Starts the lab's servers. Rejects (with everything closed again) when a port is taken. */
export async function startLab(options: LabOptions = {}): Promise<Lab> {
  const host = options.host ?? '127.0.0.1';
  const token = options.token ?? randomUUID();
  if (token.length < 8 || /\s/.test(token))
    throw new TypeError('lab: token must be ≥ 8 characters, no spaces');
  const maxPayload = options.maxPayloadBytes ?? 1024 * 1024;
  const log: LabLogger = options.logger ?? {};
  const faults = new FaultTable(options.seed ?? 1);

  const wsStats = {} as Record<WsBackend, WsPathStats>;
  const sockets = {} as Record<WsBackend, Set<WebSocket>>;
  const wss = {} as Record<WsBackend, WebSocketServer>;
  for (const backend of WS_BACKENDS) {
    wsStats[backend] = emptyWsStats();
    sockets[backend] = new Set();
    wss[backend] = new WebSocketServer({
      noServer: true,
      autoPong: false,
      clientTracking: false,
      maxPayload,
    });
  }
  const httpStats: HttpStats = {
    requests: 0,
    ok: 0,
    clientErrors: 0,
    injectedErrors: 0,
    status503: 0,
    resets: 0,
    hung: 0,
    aborted: 0,
  };
  const controlStats = { requests: 0, unauthorized: 0, forbidden: 0 };
  const timers = new Set<NodeJS.Timeout>();
  const wsRawSockets = new Set<Socket>();
  const httpRawSockets = new Set<Socket>();
  const hungResponses = new Set<http.ServerResponse>();
  const received: A2AEnvelope[] = [];
  // The router records each message_id once: senders deliver at least once (a message written just
  // before a reset is written again after the reconnect). Remembers the last SEEN_IDS_LIMIT ids.
  const seenIds = new Set<string>();
  let a2aDuplicates = 0;
  const waiters = new Set<{ n: number; resolve: (m: A2AEnvelope[]) => void; reject: (e: Error) => void }>();
  const registry = new Map<string, unknown>();
  let agentNumber = 0;
  let stopped = false;
  let ports = { ws: 0, http: 0, control: 0 };

  const later = (ms: number, fn: () => void) => {
    if (ms <= 0) {
      fn();
      return;
    }
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!stopped) fn();
    }, ms);
    timers.add(timer);
  };

  /** Sockets the lab itself reset ("down"): their unanswered requests were not aborted by the client. */
  const resetByLab = new WeakSet<Socket>();
  const resetSocket = (socket: Socket) => {
    resetByLab.add(socket);
    if (socket.destroyed) return;
    // An RST, as from a crashed process; resetAndDestroy needs a connected TCP handle.
    try {
      socket.resetAndDestroy();
    } catch {
      socket.destroy();
    }
  };

  const allWsDown = () => WS_BACKENDS.every((b) => faults.get(b).down);

  faults.onChange((backend, state, previous) => {
    log.info?.('lab: fault changed', { backend, fault: state as unknown as Record<string, unknown> });
    if (!state.down || previous.down) return;
    if (backend === 'lmStudio') {
      for (const socket of httpRawSockets) resetSocket(socket);
      httpStats.resets += httpRawSockets.size;
    } else {
      for (const ws of sockets[backend]) ws.terminate();
    }
  });

  // ------------------------------------------------------------ WebSocket backends

  const reply = (backend: WsBackend, ws: WebSocket, message: unknown) => {
    later(faults.get(backend).latencyMs, () => {
      const f = faults.get(backend);
      if (ws.readyState !== ws.OPEN || f.silent || f.down) return;
      ws.send(JSON.stringify(message));
      wsStats[backend].replies++;
    });
  };

  const recordA2A = (envelope: A2AEnvelope) => {
    received.push(envelope);
    for (const waiter of [...waiters]) {
      if (received.length >= waiter.n) {
        waiters.delete(waiter);
        waiter.resolve(received.map((m) => structuredClone(m)));
      }
    }
  };

  const onFrame = (backend: WsBackend, ws: WebSocket, data: RawData, isBinary: boolean) => {
    const stats = wsStats[backend];
    if (faults.get(backend).silent || faults.get(backend).down) {
      stats.dropped++;
      return;
    }
    stats.messages++;
    const frame = parseFrame(data, isBinary);
    if (typeof frame === 'string') {
      stats.malformed++;
      log.warn?.('lab: malformed frame', { backend, reason: frame });
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
        stats.invalid++;
        reply(backend, ws, a2aErrorReport(frame, 'INVALID_ENVELOPE', checked.error));
        return;
      }
      const id = checked.envelope.message_id;
      if (seenIds.has(id)) {
        a2aDuplicates++;
        return;
      }
      if (faults.shouldFail('a2a')) {
        stats.injectedErrors++;
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
      stats.invalid++;
      reply(backend, ws, result.reply);
      return;
    }
    if (faults.shouldFail(backend)) {
      stats.injectedErrors++;
      reply(backend, ws, failure(frame, 'lab: injected failure (errorRate)'));
      return;
    }
    reply(backend, ws, result.reply);
  };

  const onConnection = (backend: WsBackend, ws: WebSocket) => {
    sockets[backend].add(ws);
    wsStats[backend].connectionsTotal++;
    ws.on('close', () => sockets[backend].delete(ws));
    ws.on('error', (error) => log.warn?.('lab: socket error', { backend, error: error.message }));
    ws.on('ping', (data) => {
      const f = faults.get(backend);
      if (!f.silent && !f.down && ws.readyState === ws.OPEN) ws.pong(data);
    });
    ws.on('message', (data, isBinary) => {
      try {
        onFrame(backend, ws, data, isBinary);
      } catch (error) {
        log.error?.('lab: frame handler failed', { backend, error: String(error) });
      }
    });
  };

  const wsServer = http.createServer((_req, res) => {
    sendJson(
      res,
      426,
      { error: 'WebSocket upgrade required', paths: Object.keys(WS_PATHS) },
      { Upgrade: 'websocket' },
    );
  });
  wsServer.on('connection', (socket: Socket) => {
    if (allWsDown()) {
      resetSocket(socket);
      return;
    }
    wsRawSockets.add(socket);
    socket.on('close', () => wsRawSockets.delete(socket));
  });
  wsServer.on('upgrade', (req, socket, head) => {
    socket.on('error', () => {});
    const path = new URL(req.url ?? '/', 'http://lab').pathname;
    const backend = WS_PATHS[path];
    if (!backend) {
      refuseUpgrade(socket, 404, `no backend at ${path}`);
      return;
    }
    const stats = wsStats[backend];
    const forbidden = checkHostAndOrigin(req.headers, { allowedHosts: hostHeadersFor(host, ports.ws) });
    if (forbidden) {
      stats.refusedUpgrades++;
      refuseUpgrade(socket, 403, forbidden);
      return;
    }
    const f = faults.get(backend);
    if (f.down || stopped) {
      stats.refusedUpgrades++;
      refuseUpgrade(socket, 503, `${backend} is down`);
      return;
    }
    if (f.status503) {
      stats.refusedUpgrades++;
      refuseUpgrade(socket, 503, `${backend} is unavailable`, {
        'Retry-After': String(f.status503.retryAfterSeconds),
      });
      return;
    }
    wss[backend].handleUpgrade(req, socket, head, (ws) => onConnection(backend, ws));
  });

  // ------------------------------------------------------------ LM Studio (OpenAI-compatible)

  const answerLmStudio = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://lab');
    const route = `${req.method} ${url.pathname.replace(/\/+$/, '')}`;
    let body: string | { tooLarge: true } = '';
    if (req.method === 'POST') body = await readBody(req, maxPayload);
    const f = faults.get('lmStudio');
    const respond = (status: number, payload: unknown, headers: http.OutgoingHttpHeaders = {}) =>
      later(faults.get('lmStudio').latencyMs, () => {
        if (faults.get('lmStudio').down) {
          resetSocket(req.socket);
          return;
        }
        if (status < 300) httpStats.ok++;
        else if (status < 500) httpStats.clientErrors++;
        sendJson(res, status, payload, headers);
      });
    if (f.status503) {
      httpStats.status503++;
      respond(
        503,
        { error: { message: 'lab: service unavailable', type: 'server_error' } },
        {
          'Retry-After': String(f.status503.retryAfterSeconds),
        },
      );
      return;
    }
    if (route !== 'GET /v1/models' && route !== 'POST /v1/chat/completions') {
      const known = url.pathname === '/v1/models' || url.pathname === '/v1/chat/completions';
      respond(known ? 405 : 404, {
        error: {
          message: known ? 'method not allowed' : `no route ${url.pathname}`,
          type: 'invalid_request_error',
        },
      });
      return;
    }
    if (faults.shouldFail('lmStudio')) {
      httpStats.injectedErrors++;
      respond(500, { error: { message: 'lab: injected failure (errorRate)', type: 'server_error' } });
      return;
    }
    if (route === 'GET /v1/models') {
      respond(200, modelsResponse());
      return;
    }
    if (typeof body !== 'string') {
      respond(413, { error: { message: 'request body too large', type: 'invalid_request_error' } });
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      respond(400, { error: { message: 'body is not valid JSON', type: 'invalid_request_error' } });
      return;
    }
    const result = chatCompletion(parsed);
    if (result.status === 400) {
      respond(400, { error: { message: result.error, type: 'invalid_request_error' } });
      return;
    }
    respond(200, result.body);
  };

  const lmServer = http.createServer((req, res) => {
    httpStats.requests++;
    const f = faults.get('lmStudio');
    if (f.down) {
      httpStats.resets++;
      resetSocket(req.socket);
      return;
    }
    // The client went away before its answer (a cancelled call): counted, so a test can see it.
    res.once('close', () => {
      if (!res.writableFinished && !stopped && !resetByLab.has(req.socket)) httpStats.aborted++;
    });
    const forbidden = checkHostAndOrigin(req.headers, { allowedHosts: hostHeadersFor(host, ports.http) });
    if (forbidden) {
      httpStats.clientErrors++;
      sendJson(res, 403, { error: { message: forbidden, type: 'invalid_request_error' } });
      return;
    }
    if (f.silent) {
      httpStats.hung++;
      hungResponses.add(res);
      res.on('close', () => hungResponses.delete(res));
      req.resume();
      return;
    }
    answerLmStudio(req, res).catch((error) => {
      log.warn?.('lab: lmStudio request failed', { error: String(error) });
      if (!res.headersSent) res.destroy();
    });
  });
  lmServer.on('connection', (socket: Socket) => {
    if (faults.get('lmStudio').down) {
      httpStats.resets++;
      resetSocket(socket);
      return;
    }
    httpRawSockets.add(socket);
    socket.on('close', () => httpRawSockets.delete(socket));
  });

  // ------------------------------------------------------------ lab object

  const a2a: Lab['a2a'] = {
    received: () => received.map((m) => structuredClone(m)),
    count: () => received.length,
    clear: () => {
      received.length = 0;
    },
    waitForCount: (n, timeoutMs = 5000) => {
      if (received.length >= n) return Promise.resolve(a2a.received());
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
          waiters.delete(waiter);
          reject(new Error(`lab: ${received.length} of ${n} a2a messages after ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(waiter);
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

  const fault = (backend: LabBackend, change: FaultPatch | FaultCommand): FaultState => {
    if (!isLabBackend(backend)) throw new TypeError(`lab: unknown backend ${String(backend)}`);
    return faults.apply(backend, change);
  };

  const stats = (): LabStats => {
    const ws = {} as Record<WsBackend, WsPathStats>;
    for (const backend of WS_BACKENDS)
      ws[backend] = { ...wsStats[backend], connections: sockets[backend].size };
    return {
      ws,
      lmStudio: { ...httpStats },
      control: { ...controlStats },
      a2a: { received: received.length, duplicates: a2aDuplicates },
    };
  };

  // ------------------------------------------------------------ control API

  const controlServer = http.createServer((req, res) => {
    controlStats.requests++;
    const forbidden = checkHostAndOrigin(req.headers, {
      allowedHosts: hostHeadersFor(CONTROL_HOST, ports.control),
    });
    if (forbidden) {
      controlStats.forbidden++;
      sendJson(res, 403, { error: forbidden });
      return;
    }
    const origin = req.headers.origin;
    const cors: http.OutgoingHttpHeaders =
      origin && isLoopbackOrigin(origin)
        ? {
            'Access-Control-Allow-Origin': origin,
            'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
            'Access-Control-Allow-Headers': 'Authorization, Content-Type',
            'Access-Control-Max-Age': '600',
            Vary: 'Origin',
          }
        : {};
    if (req.method === 'OPTIONS') {
      res.writeHead(204, cors);
      res.end();
      return;
    }
    if (!hasBearerToken(req, token)) {
      controlStats.unauthorized++;
      sendJson(
        res,
        401,
        { error: 'missing or wrong bearer token' },
        { ...cors, 'WWW-Authenticate': 'Bearer' },
      );
      return;
    }
    handleControl(req, res, cors).catch((error) => {
      log.warn?.('lab: control request failed', { error: String(error) });
      sendJson(res, 500, { error: 'internal error' }, cors);
    });
  });

  const handleControl = async (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    cors: http.OutgoingHttpHeaders,
  ): Promise<void> => {
    const { pathname } = new URL(req.url ?? '/', 'http://lab');
    const parts = pathname.split('/').filter(Boolean);
    const [first, second, ...rest] = parts;
    if (req.method === 'GET' && parts.length === 0) {
      sendJson(
        res,
        200,
        {
          backends: LAB_BACKENDS,
          urls,
          endpoints: [
            'GET /faults',
            'GET /stats',
            'POST /faults/<backend>',
            'POST /reset',
            'POST /reset/<backend>',
          ],
        },
        cors,
      );
      return;
    }
    if (req.method === 'GET' && first === 'faults' && !second) {
      sendJson(res, 200, faults.all(), cors);
      return;
    }
    if (req.method === 'GET' && first === 'stats' && !second) {
      sendJson(res, 200, stats(), cors);
      return;
    }
    if (req.method === 'POST' && (first === 'faults' || first === 'reset') && rest.length === 0) {
      if (second !== undefined && !isLabBackend(second)) {
        sendJson(res, 404, { error: `unknown backend ${second}`, backends: LAB_BACKENDS }, cors);
        return;
      }
      if (first === 'reset') {
        faults.clear(second);
        sendJson(res, 200, faults.all(), cors);
        return;
      }
      if (second === undefined) {
        sendJson(res, 404, { error: 'POST /faults/<backend>', backends: LAB_BACKENDS }, cors);
        return;
      }
      const body = await readBody(req, CONTROL_BODY_LIMIT);
      if (typeof body !== 'string') {
        sendJson(res, 413, { error: 'body too large' }, cors);
        return;
      }
      let json: unknown;
      try {
        json = body.trim() === '' ? {} : JSON.parse(body);
      } catch {
        sendJson(res, 400, { error: 'body is not valid JSON' }, cors);
        return;
      }
      const parsed = faultPatchSchema.safeParse(json);
      if (!parsed.success) {
        sendJson(res, 400, { error: formatIssues(parsed.error) }, cors);
        return;
      }
      const state = faults.apply(second, parsed.data);
      sendJson(res, 200, { backend: second, fault: state }, cors);
      return;
    }
    const known = ['faults', 'stats', 'reset'].includes(first ?? '');
    sendJson(res, known ? 405 : 404, { error: `no route ${req.method} ${pathname}` }, cors);
  };

  // ------------------------------------------------------------ start

  const servers = [wsServer, lmServer, controlServer];
  let urls: Lab['urls'];
  try {
    ports = {
      ws: await listen(wsServer, options.wsPort ?? 8765, host),
      http: await listen(lmServer, options.httpPort ?? 1234, host),
      control: await listen(controlServer, options.controlPort ?? 0, CONTROL_HOST),
    };
  } catch (error) {
    await Promise.all(servers.map(closeServer));
    throw error;
  }
  const shown = displayHost(host);
  urls = {
    evolution: `ws://${shown}:${ports.ws}/evolution`,
    agents: `ws://${shown}:${ports.ws}/agents`,
    a2a: `ws://${shown}:${ports.ws}/a2a`,
    lmStudio: `http://${shown}:${ports.http}/v1`,
    control: `http://${CONTROL_HOST}:${ports.control}`,
  };
  log.info?.('lab: started', { ...urls });

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    if (stopping) return stopping;
    stopped = true;
    stopping = (async () => {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const waiter of waiters) waiter.reject(new Error('lab stopped'));
      waiters.clear();
      for (const backend of WS_BACKENDS) {
        for (const ws of sockets[backend]) ws.terminate();
        wss[backend].close();
      }
      for (const res of hungResponses) res.destroy();
      for (const socket of [...wsRawSockets, ...httpRawSockets]) socket.destroy();
      await Promise.all(servers.map(closeServer));
      log.info?.('lab: stopped');
    })();
    return stopping;
  };

  return {
    urls,
    token,
    ports: { ...ports },
    a2a,
    fault,
    clear: (backend) => {
      if (backend !== undefined && !isLabBackend(backend))
        throw new TypeError(`lab: unknown backend ${String(backend)}`);
      faults.clear(backend);
    },
    faults: () => faults.all(),
    stats,
    stop,
  };
}
