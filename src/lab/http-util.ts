/*
 * HTTP plumbing shared by the lab's servers: listening, closing, JSON answers, refused upgrades and
 * bounded request bodies.
 */
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { listen } from '../net/listen.js';

/** The host to show in URLs: a wildcard address shows as 127.0.0.1, IPv6 in brackets. */
export function displayHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '[::]') return '127.0.0.1';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** Listens on `host:port` (0: any free port); resolves with the port, rejects with a readable error. */
export async function listenOrSay(server: http.Server, port: number, host: string): Promise<number> {
  try {
    return await listen(server, port, host);
  } catch (error) {
    throw new Error(`lab: cannot listen on ${host}:${port}: ${(error as Error).message}`);
  }
}

/** Closes a server and its connections; resolves when it is closed (at once when not listening). */
export function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Answers with a JSON body (nothing when the response already started or its socket is gone). */
export function sendJson(
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
export function refuseUpgrade(
  socket: Duplex,
  status: number,
  reason: string,
  headers: Record<string, string> = {},
) {
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

/** Reads a request body up to `limit` bytes: `{ tooLarge: true }` past it. */
export function readBody(req: http.IncomingMessage, limit: number): Promise<string | { tooLarge: true }> {
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
