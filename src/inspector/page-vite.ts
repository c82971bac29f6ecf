/** The inspector page from its sources (`inspector/`) through Vite's dev server: the clone's flow. */
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { createServer, type Plugin } from 'vite';
import {
  INSPECTOR_ROOT,
  type InspectorPageOptions,
  PROJECT_ROOT,
  REPLAY_PATH,
  type ServedPage,
} from './page.js';

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

export async function serveWithVite(options: InspectorPageOptions & { host: string }): Promise<ServedPage> {
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
      host: options.host,
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
  return { baseUrl, vite, stop: () => vite.close() };
}
