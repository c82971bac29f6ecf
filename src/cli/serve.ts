/** `mcp-lifeline serve`: the bridge as an MCP server over stdio or Streamable HTTP. */
import { createNodeBridge } from '../bridge/node.js';
import { startMcpHttpServer } from '../mcp/http.js';
import { serveMcpStdio } from '../mcp/stdio.js';
import { withPersistence } from '../persistence/index.js';
import { installOpenTelemetry } from '../telemetry/otel-sdk.js';
import { parseArgs, parseHostPort, UsageError } from './args.js';
import { type CliIO, untilStopped } from './io.js';
import { configOf, guarded, stderrLogger } from './shared.js';
import { packageVersion } from './version.js';

export const SERVE_USAGE = `Usage: mcp-lifeline serve [--http HOST:PORT] [--config FILE] [--data-dir DIR]

Runs the bridge as an MCP server: over stdio by default (stdout carries the protocol; logs go to
stderr), or over Streamable HTTP at http://HOST:PORT/mcp with --http (loopback only; requests with
a foreign Origin or Host are refused with 403).

Options:
  --http HOST:PORT   serve Streamable HTTP instead of stdio (e.g. 127.0.0.1:8790)
  --config FILE      configuration file (default: ./mcp-lifeline.config.json if present)
  --data-dir DIR     keep breaker states and queued A2A messages in DIR, across restarts
  -h, --help         show this help

Environment: MCP_LIFELINE_{EVOLUTION,AGENTS,A2A,LMSTUDIO}_URL override backend URLs;
MCP_LIFELINE_DATA_DIR sets the data directory.
`;

export function serveCommand(argv: readonly string[], io: CliIO): Promise<number> {
  return guarded('serve', io, SERVE_USAGE, async () => {
    const { options, positionals } = parseArgs(argv, {
      http: 'string',
      config: 'string',
      'data-dir': 'string',
    });
    if (options.help) {
      io.stdout(SERVE_USAGE);
      return 0;
    }
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);
    const http = typeof options.http === 'string' ? parseHostPort('--http', options.http) : undefined;
    const dataDir = options['data-dir'] as string | undefined;
    const persistent = withPersistence(
      configOf(io, options.config as string | undefined, {
        logger: stderrLogger(io),
        ...(dataDir === undefined ? {} : { dataDir }),
      }),
    );
    const bridge = createNodeBridge(persistent.config);
    const telemetry = await installOpenTelemetry(io.env, bridge, { version: packageVersion() });
    let started = false;
    const start = async () => {
      started = true;
      await bridge.start();
    };
    try {
      if (http) {
        // Listen before any backend is contacted: a busy port is the only line printed.
        const server = await startMcpHttpServer(bridge, { ...http, version: packageVersion() }).catch(
          (error: NodeJS.ErrnoException) => {
            if (error?.code !== 'EADDRINUSE') throw error;
            throw new Error(`port ${http.port} on ${http.host} is in use: give --http another HOST:PORT`);
          },
        );
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
      if (started) await bridge.stop();
      await telemetry?.shutdown();
      persistent.close();
    }
    return 0;
  });
}
