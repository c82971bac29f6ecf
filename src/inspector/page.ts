/**
 * Serves the inspector page on a loopback address and never opens a browser. Two ways, one result:
 * - `static`: the prebuilt page (`vite build` → `dist/inspector/`, shipped in the package) from a
 *   small Node HTTP server — what an installed package uses; it needs no Vite.
 * - `vite`: the page's sources (`inspector/`) through Vite's dev server — the flow of a clone.
 * `auto` (the default) picks `vite` when this module runs from its TypeScript source and Vite is
 * installed, else `static`. With `replayFile`, the page is served with that recording at
 * `/__inspector/replay.jsonl`.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ViteDevServer } from 'vite';
import { isLoopbackHost } from '../net/loopback.js';

const HERE = dirname(fileURLToPath(import.meta.url));
/** True when this file is the TypeScript source (a clone), false when it is the compiled `dist/`. */
const FROM_SOURCE = import.meta.url.endsWith('.ts');
/** The repository (source) or the installed package (dist/src/inspector → three levels up). */
export const PROJECT_ROOT = join(HERE, ...(FROM_SOURCE ? ['..', '..'] : ['..', '..', '..']));
/** The page's sources (the Vite app). */
export const INSPECTOR_ROOT = join(PROJECT_ROOT, 'inspector');
/** The built page (`npm run build`), shipped in the package. */
export const INSPECTOR_BUILD = join(PROJECT_ROOT, 'dist', 'inspector');
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
  /** `auto` (default), `static` (the built page) or `vite` (the sources, through Vite). */
  mode?: 'auto' | 'static' | 'vite';
  /** The built page's directory for `static`. Default `dist/inspector` of this package. */
  buildDir?: string;
  /** Vite only. Default true. False: no HMR and no file watching (a file saved during a test must not reload it). */
  hmr?: boolean;
  /** Vite only: its cache directory. Default `node_modules/.vite-inspector`. */
  cacheDir?: string;
  /** Vite only. */
  logLevel?: 'info' | 'warn' | 'error' | 'silent';
}

/** What a page server gives back before the query is added. */
export interface ServedPage {
  /** `http://HOST:PORT/` */
  baseUrl: string;
  /** The Vite dev server, in `vite` mode. */
  vite?: ViteDevServer;
  stop(): Promise<void>;
}

export interface InspectorPage extends ServedPage {
  /** The page's URL, with its query (`?ws=…`, `?replay=1` or `?inpage=1…`). */
  readonly url: string;
  /** The page's origin, without a query. */
  readonly baseUrl: string;
  /** The page's exact origin (`http://127.0.0.1:PORT`), as browsers send it in `Origin`. */
  readonly origin: string;
  readonly mode: 'static' | 'vite';
}

async function viteInstalled(): Promise<boolean> {
  try {
    await import('vite');
    return true;
  } catch {
    return false;
  }
}

/** Starts the page's server. */
export async function startInspectorPage(options: InspectorPageOptions = {}): Promise<InspectorPage> {
  const host = options.host ?? '127.0.0.1';
  if (!isLoopbackHost(host))
    throw new Error(`inspector: the page must be served on a loopback address, got ${host}`);
  if (options.replayFile && !existsSync(options.replayFile))
    throw new Error(`inspector: no such recording: ${options.replayFile}`);
  let mode = options.mode ?? 'auto';
  if (mode === 'auto') mode = FROM_SOURCE && (await viteInstalled()) ? 'vite' : 'static';
  const served =
    mode === 'vite'
      ? await (await import('./page-vite.js')).serveWithVite({ ...options, host })
      : await (await import('./page-static.js')).serveStatic({
          ...options,
          host,
          root: options.buildDir ?? INSPECTOR_BUILD,
        });
  const { baseUrl } = served;
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
    ...served,
    url: `${search ? `${baseUrl}?${search}` : baseUrl}${hash}`,
    origin: new URL(baseUrl).origin,
    mode,
  };
}
