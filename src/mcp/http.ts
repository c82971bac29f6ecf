/*
 * MCP over Streamable HTTP (Node only), both protocol eras on one endpoint. 2026-07-28 requests
 * (`server/discover` and per-request envelopes) need no session: the SDK v2 handler
 * (`createMcpHandler`) answers each with a fresh server instance, so replicas behind a load balancer
 * can serve one client. 2025-11-25 clients (`initialize`) get one `McpServer` +
 * `StreamableHTTPServerTransport` per session. Every request is checked first: a `Host` other than
 * the bound host:port (or a configured `allowedHosts` entry) or a foreign `Origin` is refused with
 * 403 (DNS-rebinding and cross-site protection), and with `authToken` a request without
 * `Authorization: Bearer <token>` gets 401. The probes `/healthz` and `/readyz` skip these checks.
 *
 * Sessions are bounded: one idle (no request in progress) for `sessionIdleTimeoutMs` is closed, and
 * past `maxSessions` an `initialize` is answered 503 with `Retry-After`. Slow clients cannot hold
 * sockets: `headersTimeoutMs` and `requestTimeoutMs` are node:http's own limits.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  createMcpHandler,
  isInitializeRequest,
  isLegacyRequest,
  type McpServer,
  type Transport,
} from '@modelcontextprotocol/server';
import { errorMessage } from '../../machines/error-message.js';
import type { Bridge } from '../bridge/types.js';
import { type Clock, systemClock } from '../clock.js';
import { listen } from '../net/listen.js';
import { METRICS_PATH, PROMETHEUS_CONTENT_TYPE, prometheusText } from '../telemetry/prometheus.js';
import {
  allowedHostHeaders,
  bearerMatches,
  bracket,
  hostAllowed,
  isLoopbackHost,
  originAllowed,
} from './http-guard.js';
import { answerProbe } from './probes.js';
import { createMcpServer, MCP_SURFACE, type McpServerOptions } from './server.js';
import { toWebRequest, writeWebResponse } from './web-exchange.js';

export { isLoopbackHost } from './http-guard.js';
export const MCP_HTTP_PATH = '/mcp';
const BODY_LIMIT = 4 * 1024 * 1024;

export interface McpHttpOptions extends Omit<McpServerOptions, 'surface'> {
  /**
   * Interface to bind. Default '127.0.0.1'. A non-loopback address (e.g. '0.0.0.0') needs
   * `authToken`.
   */
  host?: string;
  /**
   * `Host` header values accepted besides the bound address (`name` or `name:port`; a bare name
   * matches any port), e.g. the load balancer's address the clients use. Default none.
   */
  allowedHosts?: string[];
  /**
   * Bearer token every request must carry (`Authorization: Bearer <token>`), compared in constant
   * time; required to bind a non-loopback address. `/healthz` and `/readyz` need none. Default none.
   */
  authToken?: string;
  /** Port; 0 = random. Default 8790. */
  port?: number;
  /** Origins allowed besides loopback ones (e.g. 'https://app.example'). Default none. */
  allowedOrigins?: string[];
  /** Surface name for `bridge.setSurface` while listening. Default 'mcp'; `false` leaves it alone. */
  surface?: string | false;
  /**
   * Most MCP sessions open at once. Past it, `initialize` is answered 503 with `Retry-After`
   * (`retryAfterSeconds`). Each session holds an `McpServer` (~60 KiB). Default 1 000.
   */
  maxSessions?: number;
  /** A session with no request in progress for this long is closed (its id then gets 404). Default 600 000 (10 min). */
  sessionIdleTimeoutMs?: number;
  /** `Retry-After` of the 503 answered at the session cap, in seconds. Default 30. */
  retryAfterSeconds?: number;
  /** Time allowed to receive a request's headers (node:http `headersTimeout`). Default 10 000 ms. */
  headersTimeoutMs?: number;
  /**
   * Time allowed to receive a whole request, body included (node:http `requestTimeout`); responses
   * (the SSE stream of a GET) are not limited. Default 30 000 ms.
   */
  requestTimeoutMs?: number;
  /** Times the idle timeout. Default `systemClock`. */
  clock?: Clock;
}

export interface McpHttpServer {
  /** E.g. `http://127.0.0.1:8790/mcp`. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Open MCP sessions. */
  sessions(): number;
  /**
   * Sessions closed for being idle and `initialize` calls refused at the cap (since start), and the
   * session requests in progress now (open SSE streams included).
   */
  sessionStats(): { idleClosed: number; refused: number; activeRequests: number };
  /** Closes every session and the HTTP server. Idempotent. */
  close(): Promise<void>;
}

function sendJsonRpcError(res: http.ServerResponse, status: number, message: string): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > BODY_LIMIT) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

interface Session {
  server: McpServer;
  transport: StreamableHTTPServerTransport;
  /** Requests in progress (an open SSE stream counts): the idle timer runs only at 0. */
  active: number;
  idleTimer: unknown;
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`MCP HTTP: ${name} must be > 0`);
  return value;
}

/**
 * Serves the bridge's tools over MCP Streamable HTTP at `http://host:port/mcp`. Refuses to bind a
 * non-loopback host. While it listens, the bridge's surface `options.surface` ('mcp') is up.
 */
export async function startMcpHttpServer(
  bridge: Bridge,
  options: McpHttpOptions = {},
): Promise<McpHttpServer> {
  const host = options.host ?? '127.0.0.1';
  const token = options.authToken;
  if (token !== undefined && token.length === 0) throw new RangeError('MCP HTTP: authToken is empty');
  if (!isLoopbackHost(host) && token === undefined) {
    throw new Error(
      `MCP HTTP: refusing to bind ${host} without a bearer token: loopback addresses (127.0.0.1, ::1, localhost) only, or give --auth-token-file (or MCP_LIFELINE_AUTH_TOKEN)`,
    );
  }
  const extraOrigins = options.allowedOrigins ?? [];
  const clock = options.clock ?? systemClock;
  const maxSessions = positive('maxSessions', options.maxSessions, 1_000);
  const idleMs = positive('sessionIdleTimeoutMs', options.sessionIdleTimeoutMs, 600_000);
  const retryAfter = String(Math.ceil(positive('retryAfterSeconds', options.retryAfterSeconds, 30)));
  const sessions = new Map<string, Session>();
  const stats = { idleClosed: 0, refused: 0 };
  /** `initialize` calls in progress: they count against the cap before their session exists. */
  let opening = 0;
  let hostHeaders = new Set<string>();

  const closeSession = (id: string, session: Session) => {
    if (sessions.get(id) !== session) return;
    sessions.delete(id);
    clock.clearTimeout(session.idleTimer);
    session.server.close().catch(() => {});
  };
  const idleFrom = (id: string, session: Session) => {
    clock.clearTimeout(session.idleTimer);
    session.idleTimer = clock.setTimeout(() => {
      if (session.active > 0) return;
      stats.idleClosed++;
      closeSession(id, session);
    }, idleMs);
  };
  /** Marks `session` busy until `res` closes; then its idle timer starts again. */
  const busy = (id: string, session: Session, res: http.ServerResponse) => {
    session.active++;
    clock.clearTimeout(session.idleTimer);
    session.idleTimer = null;
    res.once('close', () => {
      session.active--;
      if (session.active === 0 && sessions.get(id) === session) idleFrom(id, session);
    });
  };

  // 2026-07-28 requests: one fresh server instance per request, no session.
  const modern = createMcpHandler(() => createMcpServer(bridge, { ...options, surface: false }), {
    legacy: 'reject',
    maxRequestBodySize: BODY_LIMIT,
  });
  const stopWatchingTools = bridge.onToolsChanged(() => modern.notify.toolsChanged());

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const authorized = token === undefined || bearerMatches(req.headers.authorization, token);
    if (answerProbe(bridge, path, req, res, token === undefined ? isLoopbackHost(host) : authorized)) return;
    if (!authorized) {
      if (!res.headersSent) res.setHeader('www-authenticate', 'Bearer');
      sendJsonRpcError(res, 401, 'Unauthorized: send Authorization: Bearer <token>');
      return;
    }
    if (!hostAllowed(req.headers.host, hostHeaders)) {
      sendJsonRpcError(res, 403, `Forbidden: Host "${req.headers.host ?? ''}" is not this server`);
      return;
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !originAllowed(origin, extraOrigins)) {
      sendJsonRpcError(res, 403, `Forbidden: Origin "${origin}" is not allowed`);
      return;
    }
    if (path === METRICS_PATH && (req.method === 'GET' || req.method === 'HEAD')) {
      const text = prometheusText(bridge);
      res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE, 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : text);
      return;
    }
    if (path !== MCP_HTTP_PATH) {
      sendJsonRpcError(res, 404, `Not found: the MCP endpoint is ${MCP_HTTP_PATH}`);
      return;
    }
    let body: unknown;
    let text: string | undefined;
    if (req.method === 'POST') {
      try {
        text = await readBody(req);
        body = text ? JSON.parse(text) : undefined;
      } catch (error) {
        sendJsonRpcError(res, 400, `Bad request: ${errorMessage(error)}`);
        return;
      }
    }
    const sessionHeader = req.headers['mcp-session-id'];
    const sessionId = Array.isArray(sessionHeader) ? sessionHeader[0] : sessionHeader;
    if (sessionId !== undefined) {
      const session = sessions.get(sessionId);
      if (!session) {
        sendJsonRpcError(res, 404, 'Session not found');
        return;
      }
      busy(sessionId, session, res);
      await session.transport.handleRequest(req, res, body);
      return;
    }
    const request = toWebRequest(req, res, text);
    if (!(await isLegacyRequest(request, body, { maxRequestBodySize: BODY_LIMIT }))) {
      await writeWebResponse(await modern.fetch(request, { parsedBody: body }), res);
      return;
    }
    if (req.method !== 'POST' || !isInitializeRequest(body)) {
      sendJsonRpcError(res, 400, 'Bad request: no valid session id (send initialize first)');
      return;
    }
    if (sessions.size + opening >= maxSessions) {
      stats.refused++;
      if (!res.headersSent) res.setHeader('retry-after', retryAfter);
      sendJsonRpcError(res, 503, `Service unavailable: ${maxSessions} MCP sessions open; retry later`);
      return;
    }
    opening++;
    try {
      const server = createMcpServer(bridge, { ...options, surface: false });
      const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => {
          const session: Session = { server, transport, active: 0, idleTimer: null };
          sessions.set(id, session);
          busy(id, session, res);
        },
      });
      transport.onclose = () => {
        const id = transport.sessionId;
        const session = id === undefined ? undefined : sessions.get(id);
        if (id !== undefined && session) {
          sessions.delete(id);
          clock.clearTimeout(session.idleTimer);
        }
      };
      // The SDK v1 session transport speaks the 2025 wire format the v2 server's legacy era answers.
      await server.connect(transport as unknown as Transport);
      await transport.handleRequest(req, res, body);
    } finally {
      opening--;
    }
  };

  const httpServer = http.createServer(
    {
      headersTimeout: positive('headersTimeoutMs', options.headersTimeoutMs, 10_000),
      requestTimeout: positive('requestTimeoutMs', options.requestTimeoutMs, 30_000),
      // How often node:http enforces the two limits above (its default is 30 s).
      connectionsCheckingInterval: Math.min(
        1_000,
        positive('headersTimeoutMs', options.headersTimeoutMs, 10_000),
      ),
    },
    (req, res) => {
      handle(req, res).catch((error: unknown) => {
        sendJsonRpcError(res, 500, `Internal error: ${errorMessage(error)}`);
      });
    },
  );

  const port = await listen(httpServer, options.port ?? 8790, host);
  hostHeaders = allowedHostHeaders(host, port, options.allowedHosts ?? []);
  const surface = options.surface ?? MCP_SURFACE;
  if (surface !== false) bridge.setSurface(surface, true);

  let closing: Promise<void> | null = null;
  return {
    url: `http://${bracket(host)}:${port}${MCP_HTTP_PATH}`,
    host,
    port,
    sessions: () => sessions.size,
    sessionStats: () => ({
      ...stats,
      activeRequests: [...sessions.values()].reduce((sum, session) => sum + session.active, 0),
    }),
    close() {
      closing ??= (async () => {
        if (surface !== false) bridge.setSurface(surface, false);
        stopWatchingTools();
        await modern.close().catch(() => {});
        const open = [...sessions.values()];
        sessions.clear();
        for (const session of open) clock.clearTimeout(session.idleTimer);
        await Promise.allSettled(open.map((session) => session.server.close()));
        await new Promise<void>((resolve) => {
          httpServer.close(() => resolve());
          httpServer.closeAllConnections();
        });
      })();
      return closing;
    },
  };
}
