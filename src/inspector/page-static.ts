/**
 * The prebuilt inspector page (`dist/inspector/`, made by `vite build`) from a small Node HTTP
 * server on a loopback address: what the installed package uses (no Vite there). Also serves a
 * recording at `REPLAY_PATH` and, in in-page mode, proxies `/v1` to the lab's LM Studio server
 * (same origin for the page). Refuses foreign `Host` and `Origin` like the lab does.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import http from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { listen } from '../net/listen.js';
import { checkHostAndOrigin, hostHeadersFor } from '../net/loopback.js';
import { type InspectorPageOptions, REPLAY_PATH, type ServedPage } from './page.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json',
  '.woff2': 'font/woff2',
};

/** The file under `root` that `pathname` names, or undefined (outside `root`, or no such file). */
function fileFor(root: string, pathname: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0')) return undefined;
  const relative = normalize(decoded === '/' ? '/index.html' : decoded).replace(/^[/\\]+/, '');
  const file = join(root, relative);
  if (file !== root && !file.startsWith(root.endsWith(sep) ? root : root + sep)) return undefined;
  try {
    return statSync(file).isFile() ? file : undefined;
  } catch {
    return undefined;
  }
}

function proxy(req: http.IncomingMessage, res: http.ServerResponse, target: URL): void {
  // As Vite's proxy with changeOrigin: the upstream sees its own Host and no browser Origin.
  const { origin: _origin, ...headers } = req.headers;
  const upstream = http.request(
    {
      host: target.hostname,
      port: target.port,
      method: req.method,
      path: req.url,
      headers: { ...headers, host: target.host },
    },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  upstream.on('error', (error) => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(`inspector: proxy to ${target.origin} failed: ${error.message}`);
  });
  req.pipe(upstream);
}

export async function serveStatic(
  options: InspectorPageOptions & { host: string; root: string },
): Promise<ServedPage> {
  const { root, host } = options;
  if (!existsSync(join(root, 'index.html')))
    throw new Error(`inspector: the page is not built (no ${join(root, 'index.html')}): run npm run build`);
  const llm = options.inPage?.lmStudio ? new URL(options.inPage.lmStudio) : undefined;
  let port = 0;
  const server = http.createServer((req, res) => {
    const forbidden = checkHostAndOrigin(req.headers, { allowedHosts: hostHeadersFor(host, port) });
    if (forbidden) {
      res.writeHead(403, { 'content-type': 'text/plain' });
      res.end(forbidden);
      return;
    }
    const pathname = new URL(req.url ?? '/', 'http://page').pathname;
    if (llm && (pathname === '/v1' || pathname.startsWith('/v1/'))) {
      proxy(req, res, llm);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' });
      res.end();
      return;
    }
    if (pathname === REPLAY_PATH && options.replayFile) {
      res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
      createReadStream(options.replayFile)
        .on('error', () => res.end())
        .pipe(res);
      return;
    }
    const file = fileFor(root, pathname);
    if (!file) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'cache-control': pathname.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
      'x-content-type-options': 'nosniff',
    });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  });
  port = await listen(server, options.port ?? 0, host);
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    baseUrl: `http://${shown}:${port}/`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
