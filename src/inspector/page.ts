/**
 * Serves the inspector page (`inspector/`, a Vite app) through Vite's JS API, on 127.0.0.1. With
 * `replayFile`, the page is served with that recording at `/__inspector/replay.jsonl`. Never opens a
 * browser.
 */
import { createReadStream, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer, type Plugin, type ViteDevServer } from 'vite';

export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const INSPECTOR_ROOT = join(PROJECT_ROOT, 'inspector');
export const REPLAY_PATH = '/__inspector/replay.jsonl';

export interface InspectorPageOptions {
  /** The inspector server to connect to (`ws://127.0.0.1:PORT/`). */
  wsUrl?: string;
  /** A `--record` file to play back instead of a live connection. */
  replayFile?: string;
  /** Loopback only. Default '127.0.0.1'. */
  host?: string;
  /** Default 0 (a free port). */
  port?: number;
  /** Adds `stately=1`: the page offers to forward events to Stately's hosted inspector. */
  stately?: boolean;
  /**
   * Serve the page in in-page mode: it runs the browser bridge itself against these backends and
   * inspects it without any inspector server. `lmStudio` is proxied at `/v1` (same origin), since
   * its server sends no CORS headers; `control` (the lab's control server) adds the fault buttons.
   */
  inPage?: { lab: string; lmStudio?: string; control?: { url: string; token: string } };
  /** Default true. False: no HMR and no file watching (a file saved during a test must not reload it). */
  hmr?: boolean;
  /** Vite's cache directory. Default `node_modules/.vite-inspector`. */
  cacheDir?: string;
  logLevel?: 'info' | 'warn' | 'error' | 'silent';
}

export interface InspectorPage {
  /** The page's URL, with its query (`?ws=…`, `?replay=1` or `?inpage=1…`). */
  readonly url: string;
  /** The page's origin, without a query. */
  readonly baseUrl: string;
  readonly vite: ViteDevServer;
  stop(): Promise<void>;
}

function replayPlugin(file: string): Plugin {
  return {
    name: 'mcp-lifeline-inspector-replay',
    configureServer(server) {
      server.middlewares.use(REPLAY_PATH, (_req, res) => {
        res.setHeader('content-type', 'application/x-ndjson');
        res.setHeader('cache-control', 'no-store');
        createReadStream(file)
          .on('error', () => {
            res.statusCode = 404;
            res.end();
          })
          .pipe(res);
      });
    },
  };
}

/** Starts the page's Vite server. */
export async function startInspectorPage(options: InspectorPageOptions = {}): Promise<InspectorPage> {
  const host = options.host ?? '127.0.0.1';
  if (!['127.0.0.1', 'localhost', '::1'].includes(host))
    throw new Error(`inspector: the page must be served on a loopback address, got ${host}`);
  if (options.replayFile && !existsSync(options.replayFile))
    throw new Error(`inspector: no such recording: ${options.replayFile}`);
  const vite = await createServer({
    root: INSPECTOR_ROOT,
    configFile: false,
    logLevel: options.logLevel ?? 'warn',
    clearScreen: false,
    cacheDir: options.cacheDir ?? join(PROJECT_ROOT, 'node_modules', '.vite-inspector'),
    plugins: options.replayFile ? [replayPlugin(options.replayFile)] : [],
    optimizeDeps: {
      include: ['@statelyai/inspect', ...(options.inPage ? ['@mcp-b/webmcp-polyfill'] : [])],
    },
    server: {
      ...(options.hmr === false ? { hmr: false, watch: null } : {}),
      ...(options.inPage?.lmStudio
        ? { proxy: { '/v1': { target: new URL(options.inPage.lmStudio).origin, changeOrigin: true } } }
        : {}),
      host,
      port: options.port ?? 0,
      strictPort: options.port !== undefined && options.port !== 0,
      open: false,
      fs: { allow: [PROJECT_ROOT] },
    },
  });
  await vite.listen();
  const baseUrl = vite.resolvedUrls?.local[0];
  if (!baseUrl) {
    await vite.close();
    throw new Error('inspector: vite did not report its URL');
  }
  const query = new URLSearchParams();
  let hash = '';
  if (options.inPage) {
    query.set('inpage', '1');
    query.set('lab', options.inPage.lab);
    if (options.inPage.lmStudio) query.set('llm', new URL('/v1', baseUrl).href);
    if (options.inPage.control) {
      query.set('control', options.inPage.control.url);
      hash = `#${new URLSearchParams({ token: options.inPage.control.token })}`;
    }
  } else if (options.replayFile) query.set('replay', '1');
  else if (options.wsUrl) query.set('ws', options.wsUrl);
  if (options.stately) query.set('stately', '1');
  const search = query.toString();
  return {
    url: `${search ? `${baseUrl}?${search}` : baseUrl}${hash}`,
    baseUrl,
    vite,
    stop: () => vite.close(),
  };
}
