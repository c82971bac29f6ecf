/*
 * A real node:http server on 127.0.0.1 for HTTP backend tests: counts hits, records requests, and lets
 * a test wait for the n-th request (real I/O, never a wall-clock sleep).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach } from 'vitest';

export type Handler = (req: IncomingMessage, res: ServerResponse, hit: number) => void;

export interface TestServer {
  port: number;
  readonly hits: number;
  readonly requests: { method: string; url: string; authorization: string | undefined }[];
  /** Resolves once the server has received its `n`-th request (counting from its first start). */
  waitForHit(n: number): Promise<void>;
  close(): Promise<void>;
  /** Listens again on the same port. */
  restart(): Promise<void>;
}

export const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

export async function startServer(handler: Handler): Promise<TestServer> {
  let hits = 0;
  const requests: TestServer['requests'] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const server = createServer((req, res) => {
    hits++;
    requests.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization });
    handler(req, res, hits);
    for (const waiter of waiters.filter((w) => w.n <= hits)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen(0);
  const port = (server.address() as AddressInfo).port;
  let listening = true;
  const close = async () => {
    if (!listening) return;
    listening = false;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  cleanups.push(close);
  return {
    port,
    get hits() {
      return hits;
    },
    requests,
    waitForHit: (n) =>
      n <= hits ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve })),
    close,
    async restart() {
      await listen(port);
      listening = true;
    },
  };
}

export function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}
