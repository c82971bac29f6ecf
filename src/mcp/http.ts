/*
 * MCP over Streamable HTTP (Node only): one `McpServer` + `StreamableHTTPServerTransport` per session,
 * on a `node:http` server bound to a loopback address. Every request is checked first: a `Host` other
 * than the bound host:port or a non-loopback `Origin` is refused with 403 (DNS-rebinding and
 * cross-site protection), before any MCP processing.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { Bridge } from '../bridge/types.js';
import { METRICS_PATH, PROMETHEUS_CONTENT_TYPE, prometheusText } from '../telemetry/prometheus.js';
import { createMcpServer, MCP_SURFACE, type McpServerOptions } from './server.js';

export const MCP_HTTP_PATH = '/mcp';
const BODY_LIMIT = 4 * 1024 * 1024;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export interface McpHttpOptions extends Omit<McpServerOptions, 'surface'> {
  /** Loopback interface to bind. Default '127.0.0.1'. */
  host?: string;
  /** Port; 0 = random. Default 8790. */
  port?: number;
  /** Origins allowed besides loopback ones (e.g. 'https://app.example'). Default none. */
  allowedOrigins?: string[];
  /** Surface name for `bridge.setSurface` while listening. Default 'mcp'; `false` leaves it alone. */
  surface?: string | false;
}

export interface McpHttpServer {
  /** E.g. `http://127.0.0.1:8790/mcp`. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Open MCP sessions. */
  sessions(): number;
  /** Closes every session and the HTTP server. Idempotent. */
  close(): Promise<void>;
}

/** True for `127.0.0.1`, `localhost`, `::1` (with or without brackets) and other 127.x addresses. */
export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host.toLowerCase()) || /^127(\.\d{1,3}){3}$/.test(host);
}

function bracket(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** Host header values accepted for a server bound to `host:port`. */
function allowedHostHeaders(host: string, port: number): Set<string> {
  const values = new Set([`${bracket(host)}:${port}`.toLowerCase()]);
  // `localhost` names the same loopback interface and cannot be rebound by a foreign DNS name.
  if (host === '127.0.0.1' || host === '::1' || host === '[::1]' || host === 'localhost') {
    values.add(`localhost:${port}`);
  }
  return values;
}

function originAllowed(origin: string, extra: readonly string[]): boolean {
  if (extra.includes(origin)) return true;
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && isLoopbackHost(url.hostname);
  } catch {
    return false;
  }
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
  if (!isLoopbackHost(host)) {
    throw new Error(
      `MCP HTTP: refusing to bind ${host}: only loopback addresses (127.0.0.1, ::1, localhost)`,
    );
  }
  const extraOrigins = options.allowedOrigins ?? [];
  const sessions = new Map<string, Session>();
  let hostHeaders = new Set<string>();

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const hostHeader = (req.headers.host ?? '').toLowerCase();
    if (!hostHeaders.has(hostHeader)) {
      sendJsonRpcError(res, 403, `Forbidden: Host "${req.headers.host ?? ''}" is not this server`);
      return;
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !originAllowed(origin, extraOrigins)) {
      sendJsonRpcError(res, 403, `Forbidden: Origin "${origin}" is not allowed`);
      return;
    }
    const path = (req.url ?? '/').split('?')[0];
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
    if (req.method === 'POST') {
      try {
        const text = await readBody(req);
        body = text ? JSON.parse(text) : undefined;
      } catch (error) {
        sendJsonRpcError(res, 400, `Bad request: ${error instanceof Error ? error.message : String(error)}`);
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
      await session.transport.handleRequest(req, res, body);
      return;
    }
    if (req.method !== 'POST' || !isInitializeRequest(body)) {
      sendJsonRpcError(res, 400, 'Bad request: no valid session id (send initialize first)');
      return;
    }
    const server = createMcpServer(bridge, { ...options, surface: false });
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        sessions.set(id, { server, transport });
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  };

  const httpServer = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      sendJsonRpcError(res, 500, `Internal error: ${error instanceof Error ? error.message : String(error)}`);
    });
  });

  const port = await new Promise<number>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(options.port ?? 8790, host, () => {
      httpServer.off('error', reject);
      resolve((httpServer.address() as AddressInfo).port);
    });
  });
  hostHeaders = allowedHostHeaders(host, port);
  const surface = options.surface ?? MCP_SURFACE;
  if (surface !== false) bridge.setSurface(surface, true);

  let closing: Promise<void> | null = null;
  return {
    url: `http://${bracket(host)}:${port}${MCP_HTTP_PATH}`,
    host,
    port,
    sessions: () => sessions.size,
    close() {
      closing ??= (async () => {
        if (surface !== false) bridge.setSurface(surface, false);
        const open = [...sessions.values()];
        sessions.clear();
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
