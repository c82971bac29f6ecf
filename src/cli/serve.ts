/** `mcp-lifeline serve`: the bridge as an MCP server over stdio or Streamable HTTP. */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createNodeBridge } from '../bridge/node.js';
import { CONFIG_FILE_NAME } from '../config.js';
import { isLoopbackHost, startMcpHttpServer } from '../mcp/http.js';
import { serveMcpStdio } from '../mcp/stdio.js';
import { withPersistence } from '../persistence/index.js';
import { installOpenTelemetry } from '../telemetry/otel-sdk.js';
import { parseArgs, parseHostPort, UsageError } from './args.js';
import { watchConfigFile } from './config-watch.js';
import { type CliIO, untilStopped } from './io.js';
import { configOf, guarded, stderrLogger } from './shared.js';
import { packageVersion } from './version.js';

export const SERVE_USAGE = `Usage: mcp-lifeline serve [--http HOST:PORT] [--config FILE] [--data-dir DIR]
                          [--allowed-host H]... [--allowed-origin O]... [--auth-token-file FILE]

Runs the bridge as an MCP server, for 2025-11-25 (initialize) and 2026-07-28 (server/discover)
clients alike: over stdio by default (stdout carries the protocol; logs go to stderr), or over
Streamable HTTP at http://HOST:PORT/mcp with --http, with the probes /healthz and /readyz.
Requests with a foreign Origin or Host are refused with 403. A non-loopback HOST (e.g. 0.0.0.0)
needs a bearer token: every request but the probes must then carry Authorization: Bearer <token>.

Options:
  --http HOST:PORT         serve Streamable HTTP instead of stdio (e.g. 127.0.0.1:8790)
  --allowed-host H         also accept this Host header (name or name:port; repeatable), e.g. the
                           load balancer's address
  --allowed-origin O       also accept this Origin (e.g. https://app.example; repeatable)
  --auth-token-file FILE   require the bearer token in FILE (also MCP_LIFELINE_AUTH_TOKEN)
  --config FILE      configuration file (default: ./mcp-lifeline.config.json if present)
  --data-dir DIR     keep breaker states and queued A2A messages in DIR, across restarts
  -h, --help         show this help

The config file is watched: editing its backends adds, removes or restarts them without dropping
connected clients (who get notifications/tools/list_changed); an invalid edit is reported on
stderr and the running configuration stays.

Environment: MCP_LIFELINE_{EVOLUTION,AGENTS,A2A,LMSTUDIO}_URL override backend URLs;
MCP_LIFELINE_DATA_DIR sets the data directory; MCP_LIFELINE_AUTH_TOKEN is the bearer token.
`;

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value : [];
}

/** The bearer token: the file's content (trimmed) or `MCP_LIFELINE_AUTH_TOKEN`; undefined if neither. */
function authTokenOf(file: string | undefined, io: CliIO): string | undefined {
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(resolve(io.cwd, file), 'utf8').trim();
    } catch (error) {
      throw new UsageError(`--auth-token-file: cannot read ${file}: ${(error as Error).message}`);
    }
    if (text === '') throw new UsageError(`--auth-token-file: ${file} is empty`);
    return text;
  }
  const env = io.env.MCP_LIFELINE_AUTH_TOKEN;
  return env === undefined || env === '' ? undefined : env;
}

export function serveCommand(argv: readonly string[], io: CliIO): Promise<number> {
  return guarded('serve', io, SERVE_USAGE, async () => {
    const { options, positionals } = parseArgs(argv, {
      http: 'string',
      config: 'string',
      'data-dir': 'string',
      'allowed-host': 'strings',
      'allowed-origin': 'strings',
      'auth-token-file': 'string',
    });
    if (options.help) {
      io.stdout(SERVE_USAGE);
      return 0;
    }
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);
    const http = typeof options.http === 'string' ? parseHostPort('--http', options.http) : undefined;
    const dataDir = options['data-dir'] as string | undefined;
    const load = () =>
      configOf(io, options.config as string | undefined, {
        logger: stderrLogger(io),
        ...(dataDir === undefined ? {} : { dataDir }),
      });
    const initial = load();
    const persistent = withPersistence(initial);
    const bridge = createNodeBridge(persistent.config);
    const telemetry = await installOpenTelemetry(io.env, bridge, { version: packageVersion() });
    let started = false;
    let watcher: { close(): void } | undefined;
    const start = async () => {
      started = true;
      await bridge.start();
      // Hot reload: edits of the config file add, remove or restart backends (see config-watch.ts).
      const configFile = configFileOf(io, options.config as string | undefined);
      watcher = configFile
        ? watchConfigFile({
            file: configFile,
            initial,
            load,
            apply: (config) => bridge.reconfigure(config),
            log: (line) => io.stderr(`mcp-lifeline serve: ${line}\n`),
          })
        : undefined;
    };
    try {
      if (http) {
        // Listen before any backend is contacted: a busy port is the only line printed.
        const authToken = authTokenOf(options['auth-token-file'] as string | undefined, io);
        const fileHttp = initial.http ?? {};
        if (authToken !== undefined && !isLoopbackHost(http.host)) {
          io.stderr(
            `mcp-lifeline: warning: serving on ${http.host} (not loopback): every request but /healthz and /readyz needs the bearer token; use TLS in front of it\n`,
          );
        }
        const server = await startMcpHttpServer(bridge, {
          ...http,
          version: packageVersion(),
          allowedHosts: [...(fileHttp.allowedHosts ?? []), ...strings(options['allowed-host'])],
          allowedOrigins: [...(fileHttp.allowedOrigins ?? []), ...strings(options['allowed-origin'])],
          ...(authToken === undefined ? {} : { authToken }),
        }).catch((error: NodeJS.ErrnoException) => {
          if (error?.code !== 'EADDRINUSE') throw error;
          throw new Error(`port ${http.port} on ${http.host} is in use: give --http another HOST:PORT`);
        });
        try {
          await start();
          io.stdout(`mcp-lifeline MCP server (Streamable HTTP) at ${server.url}\n`);
          await untilStopped(io);
        } finally {
          await server.close();
        }
      } else {
        await start();
        const server = await serveMcpStdio(bridge, { version: packageVersion() });
        io.stderr('mcp-lifeline MCP server on stdio\n');
        await untilStopped(io, server.closed);
        await server.close();
      }
    } finally {
      watcher?.close();
      if (started) await bridge.stop();
      await telemetry?.shutdown();
      persistent.close();
    }
    return 0;
  });
}

/** The config file `serve` reads (and watches): `--config FILE`, or the default one if present. */
function configFileOf(io: CliIO, file: string | undefined): string | undefined {
  if (file !== undefined) return resolve(io.cwd, file);
  const fallback = resolve(io.cwd, CONFIG_FILE_NAME);
  return existsSync(fallback) ? fallback : undefined;
}
