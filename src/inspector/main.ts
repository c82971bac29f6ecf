/**
 * `npm run inspector -- [--url ws://127.0.0.1:PORT/] [--replay FILE] [--in-page] [--port N] [--record FILE] [--stately]`
 *
 * - `--url`: serve the page against an inspector server that is already running (e.g. `npm start`'s).
 * - `--replay FILE`: serve the page with a `--record`ed incident, with a timeline to scrub, pause, step.
 * - `--in-page`: start the lab and serve the page in in-page mode: the page runs the browser (WebMCP)
 *   build of the bridge itself and inspects it there (no bridge process, no inspector server).
 * - neither: start the lab, a bridge pointed at it and an inspector server, and serve the page (a demo;
 *   `--record FILE` records it).
 * Prints the page's URL; never opens a browser. `--stately` adds a button that forwards the events to
 * Stately's hosted inspector (stately.ai — the only outside connection, and only on that click).
 */

import { parseArgs } from 'node:util';
import { errorMessage } from '../../machines/error-message.js';
import { isMainModule } from '../is-main.js';
import { startLab } from '../lab/index.js';
import { createInspectedBridge, startInspectorPage, startInspectorServer } from './index.js';

export const INSPECTOR_USAGE = `Usage: npm run inspector -- [options]

  --url ws://127.0.0.1:PORT/   follow a running bridge's inspector server (npm start prints it)
  --replay FILE                play back a recording made with --record
  --in-page                    start the lab; the page runs the browser (WebMCP) bridge and inspects it
  --record FILE                (demo mode) append every inspection message and health report to FILE
  --port N                     port of the page (default: a free port)
  --stately                    offer to forward the events to Stately's hosted inspector (needs internet)
  -h, --help                   this text

Without --url or --replay, starts the lab, a bridge and an inspector server on 127.0.0.1 (a demo).
Never opens a browser: open the printed URL yourself.
`;

export interface RunningInspectorCli {
  url: string;
  stop(): Promise<void>;
}

/** Starts what argv asks for and returns once the page is served. */
export async function runInspector(
  argv: readonly string[],
  out: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Promise<RunningInspectorCli | null> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      url: { type: 'string' },
      replay: { type: 'string' },
      record: { type: 'string' },
      port: { type: 'string' },
      stately: { type: 'boolean', default: false },
      'in-page': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    out(INSPECTOR_USAGE);
    return null;
  }
  if ([values.url, values.replay, values['in-page']].filter(Boolean).length > 1)
    throw new Error('give one of --url, --replay, --in-page');
  if (values['in-page'] && values.record) throw new Error('--record records the demo bridge, not --in-page');
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port < 65_536))
    throw new Error(`--port: expected a port number, got ${values.port}`);
  if (values.url && !/^wss?:\/\//.test(values.url))
    throw new Error(`--url: expected ws://…, got ${values.url}`);
  const pageOptions = {
    ...(port !== undefined ? { port } : {}),
    ...(values.stately ? { stately: true } : {}),
  };

  if (values.url || values.replay) {
    const page = await startInspectorPage({
      ...pageOptions,
      ...(values.url ? { wsUrl: values.url } : {}),
      ...(values.replay ? { replayFile: values.replay } : {}),
    });
    out(`inspector page: ${page.url}`);
    return { url: page.url, stop: () => page.stop() };
  }

  const lab = await startLab({ wsPort: 0, httpPort: 0, controlPort: 0 });
  if (values['in-page']) {
    const page = await startInspectorPage({
      ...pageOptions,
      inPage: {
        lab: new URL(lab.urls.evolution).origin.replace(/^http/, 'ws'),
        lmStudio: lab.urls.lmStudio,
        control: { url: lab.urls.control, token: lab.token },
      },
    }).catch(async (error: unknown) => {
      await lab.stop();
      throw error;
    });
    out(`inspector page (in-page bridge): ${page.url}`);
    return {
      url: page.url,
      async stop() {
        await page.stop();
        await lab.stop();
      },
    };
  }
  const { bridge, relay } = createInspectedBridge({
    logger: { warn() {} },
    backends: {
      evolution: { url: lab.urls.evolution },
      agents: { url: lab.urls.agents },
      a2a: { url: lab.urls.a2a },
      lmStudio: { url: lab.urls.lmStudio },
    },
  });
  await bridge.start();
  const server = await startInspectorServer({
    bridge,
    relay,
    labControl: { url: lab.urls.control, token: lab.token },
    ...(values.record ? { record: values.record } : {}),
  });
  const page = await startInspectorPage({ ...pageOptions, wsUrl: server.url });
  server.allowPageOrigin(page.origin);
  out(`inspector server: ${server.url}`);
  if (values.record) out(`recording to ${values.record}`);
  out(`inspector page: ${page.url}`);
  return {
    url: page.url,
    async stop() {
      await page.stop();
      await server.stop();
      await bridge.stop();
      relay.stop();
      await lab.stop();
    },
  };
}

if (isMainModule(import.meta.url)) {
  runInspector(process.argv.slice(2)).then(
    (running) => {
      if (!running) return;
      const stop = () => {
        running.stop().finally(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    },
    (error: unknown) => {
      process.stderr.write(`inspector: ${errorMessage(error)}\n\n${INSPECTOR_USAGE}`);
      process.exit(2);
    },
  );
}
