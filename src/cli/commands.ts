/** The CLI's commands: serve, lab, health, start. Each returns its exit code. */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../bridge/errors.js';
import { createNodeBridge } from '../bridge/node.js';
import type { Bridge, BridgeLogger, HealthReport } from '../bridge/types.js';
import { CONFIG_FILE_NAME, type LoadedConfig, loadConfig } from '../config.js';
import {
  combineInspectors,
  createInspectionRelay,
  type RunningInspector,
  startInspector,
} from '../inspector/index.js';
import { type Lab, startLab } from '../lab/index.js';
import { runLab } from '../lab/main.js';
import { startMcpHttpServer } from '../mcp/http.js';
import { serveMcpStdio } from '../mcp/stdio.js';
import { withPersistence } from '../persistence/index.js';
import { parseArgs, parseHostPort, parsePort, UsageError } from './args.js';
import { watchConfigFile } from './config-watch.js';
import { formatHealthReport, formatHealthSummary } from './format.js';
import { type CliIO, untilStopped } from './io.js';

export const SERVE_USAGE = `Usage: mcp-lifeline serve [--http HOST:PORT] [--config FILE] [--data-dir DIR]

Runs the bridge as an MCP server: over stdio by default (stdout carries the protocol; logs go to
stderr), or over Streamable HTTP at http://HOST:PORT/mcp with --http (loopback only; requests with
a foreign Origin or Host are refused with 403).

Options:
  --http HOST:PORT   serve Streamable HTTP instead of stdio (e.g. 127.0.0.1:8790)
  --config FILE      configuration file (default: ./mcp-lifeline.config.json if present)
  --data-dir DIR     keep breaker states and queued A2A messages in DIR, across restarts
  -h, --help         show this help

The config file is watched: editing its backends adds, removes or restarts them without dropping
connected clients (who get notifications/tools/list_changed); an invalid edit is reported on
stderr and the running configuration stays.

Environment: MCP_LIFELINE_{EVOLUTION,AGENTS,A2A,LMSTUDIO}_URL override backend URLs;
MCP_LIFELINE_DATA_DIR sets the data directory.
`;

export const HEALTH_USAGE = `Usage: mcp-lifeline health [--json] [--config FILE] [--timeout MS]

Connects to every configured backend, waits until each has settled (or --timeout, default 2000 ms)
and prints the health report: one line per backend, or JSON with --json. Exits 0 when the status
is pass or warn, 1 when it is fail.

Options:
  --json             print the HealthReport as JSON
  --config FILE      configuration file (default: ./mcp-lifeline.config.json if present)
  --timeout MS       longest wait for the backends (default 2000)
  -h, --help         show this help
`;

export const START_USAGE = `Usage: mcp-lifeline start [options]

Runs the lab (local backends with fault injection), the bridge pointed at it, and an MCP server
over Streamable HTTP on 127.0.0.1, together. Prints the URLs and a live one-line health summary.
Ctrl-C (SIGINT) or SIGTERM stops everything.

Options:
  --port N           MCP HTTP port on 127.0.0.1 (default 8790, 0 = random)
  --ws-port N        lab WebSocket port (default 8765, 0 = random)
  --http-port N      lab OpenAI-compatible port (default 1234, 0 = random)
  --control-port N   lab fault-control port (default random)
  --token T          lab control token (default: random)
  --config FILE      configuration file (backend URLs are replaced by the lab's)
  -h, --help         show this help
`;

function logLine(level: string, message: string, details?: Record<string, unknown>): string {
  return `[${level}] ${message}${details ? ` ${JSON.stringify(details)}` : ''}\n`;
}

/** Bridge logs for `serve`: stderr only (in stdio mode stdout carries the protocol). */
function stderrLogger(io: CliIO): BridgeLogger {
  const line = (level: string) => (message: string, details?: Record<string, unknown>) =>
    io.stderr(logLine(level, message, details));
  return { warn: line('warn'), error: line('error'), info: line('info') };
}

function quietLogger(): BridgeLogger {
  return { warn: () => {}, error: () => {} };
}

function configOf(io: CliIO, file: string | undefined, overrides?: LoadedConfig): LoadedConfig {
  return loadConfig({
    ...(file === undefined ? {} : { file }),
    cwd: io.cwd,
    env: io.env,
    ...(overrides ? { overrides } : {}),
  });
}

/** Runs a command body, turning usage and configuration errors into messages and exit code 2. */
async function guarded(name: string, io: CliIO, usage: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`mcp-lifeline ${name}: ${error.message}\n\n${usage}`);
      return 2;
    }
    if (error instanceof ConfigError || (error as { name?: unknown })?.name === 'ConfigError') {
      io.stderr(`mcp-lifeline ${name}: invalid configuration: ${(error as Error).message}\n`);
      return 2;
    }
    io.stderr(`mcp-lifeline ${name}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

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
    const load = () =>
      configOf(io, options.config as string | undefined, {
        logger: stderrLogger(io),
        ...(dataDir === undefined ? {} : { dataDir }),
      });
    const initial = load();
    const persistent = withPersistence(initial);
    const bridge = createNodeBridge(persistent.config);
    await bridge.start();
    // Hot reload: edits of the config file add, remove or restart backends (see config-watch.ts).
    const configFile = configFileOf(io, options.config as string | undefined);
    const watcher = configFile
      ? watchConfigFile({
          file: configFile,
          initial,
          load,
          apply: (config) => bridge.reconfigure(config),
          log: (line) => io.stderr(`mcp-lifeline serve: ${line}\n`),
        })
      : undefined;
    try {
      if (http) {
        const server = await startMcpHttpServer(bridge, { ...http, version: packageVersion() });
        io.stdout(`mcp-lifeline MCP server (Streamable HTTP) at ${server.url}\n`);
        await untilStopped(io);
        await server.close();
      } else {
        const server = await serveMcpStdio(bridge, { version: packageVersion() });
        io.stderr('mcp-lifeline MCP server on stdio\n');
        await untilStopped(io, server.closed);
        await server.close();
      }
    } finally {
      watcher?.close();
      await bridge.stop();
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

export function labCommand(argv: readonly string[], io: CliIO): Promise<number> {
  return runLab(argv, {
    stdout: io.stdout,
    stderr: io.stderr,
    env: io.env as NodeJS.ProcessEnv,
    ...(io.signal ? { signal: io.signal } : {}),
    ...(io.handleSignals === undefined ? {} : { handleSignals: io.handleSignals }),
  });
}

/** States of a backend still on its way up (socket, http, mcp, webmcp-page). */
const SETTLING = new Set(['IDLE', 'CONNECTING', 'UNKNOWN', 'INITIALIZING', 'ATTACHING']);

/** Whether every backend has left its initial state (connected, failed, or given up for now). */
function settled(report: HealthReport): boolean {
  return Object.values(report.backends).every((line) => line.kind === 'webmcp' || !SETTLING.has(line.state));
}

/** Starts `bridge` and waits until its backends settle or `timeoutMs` passes. */
export async function settledHealth(bridge: Bridge, timeoutMs: number): Promise<HealthReport> {
  await bridge.start();
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (settled(bridge.health())) break;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return bridge.health();
}

export function healthCommand(argv: readonly string[], io: CliIO): Promise<number> {
  return guarded('health', io, HEALTH_USAGE, async () => {
    const { options, positionals } = parseArgs(argv, {
      json: 'boolean',
      config: 'string',
      timeout: 'string',
    });
    if (options.help) {
      io.stdout(HEALTH_USAGE);
      return 0;
    }
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);
    const timeout = options.timeout === undefined ? 2000 : Number(options.timeout);
    if (!(Number.isFinite(timeout) && timeout >= 0))
      throw new UsageError(`--timeout needs a number of milliseconds, got ${options.timeout}`);
    // No tool surface runs in this process: leave the `webmcp` line out of the report.
    const config = configOf(io, options.config as string | undefined, {
      logger: quietLogger(),
      surface: false,
    });
    const bridge = createNodeBridge(config);
    let report: HealthReport;
    try {
      report = await settledHealth(bridge, timeout);
    } finally {
      await bridge.stop();
    }
    io.stdout(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatHealthReport(report));
    return report.status === 'fail' ? 1 : 0;
  });
}

export function startCommand(argv: readonly string[], io: CliIO): Promise<number> {
  return guarded('start', io, START_USAGE, async () => {
    const { options, positionals } = parseArgs(argv, {
      port: 'string',
      'ws-port': 'string',
      'http-port': 'string',
      'control-port': 'string',
      token: 'string',
      config: 'string',
    });
    if (options.help) {
      io.stdout(START_USAGE);
      return 0;
    }
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);
    const port = (name: string, fallback: number | undefined) =>
      typeof options[name] === 'string' ? parsePort(`--${name}`, options[name] as string) : fallback;
    const mcpPort = port('port', 8790) as number;
    // Validate the configuration before anything listens.
    configOf(io, options.config as string | undefined);

    const token = (options.token as string | undefined) ?? io.env.MCP_LIFELINE_LAB_TOKEN;
    const live = liveLine(io);
    const lab: Lab = await startLab({
      wsPort: port('ws-port', 8765) as number,
      httpPort: port('http-port', 1234) as number,
      ...(port('control-port', undefined) === undefined ? {} : { controlPort: port('control-port', 0) }),
      ...(token ? { token } : {}),
      logger: {
        warn: (message, details) => live.log(logLine('lab warn', message, details)),
        error: (message, details) => live.log(logLine('lab error', message, details)),
      },
    });
    let bridge: Bridge | undefined;
    let server: Awaited<ReturnType<typeof startMcpHttpServer>> | undefined;
    let unsubscribe: (() => void) | undefined;
    const relay = createInspectionRelay();
    let inspector: RunningInspector | undefined;
    try {
      const config = configOf(io, options.config as string | undefined, {
        logger: {
          warn: (message, details) => live.log(logLine('warn', message, details)),
          error: (message, details) => live.log(logLine('error', message, details)),
        },
        backends: {
          evolution: { url: lab.urls.evolution },
          agents: { url: lab.urls.agents },
          a2a: { url: lab.urls.a2a },
          lmStudio: { url: lab.urls.lmStudio },
        },
      });
      bridge = createNodeBridge({ ...config, inspect: combineInspectors(config.inspect, relay.inspect) });
      relay.attach(bridge);
      await bridge.start();
      server = await startMcpHttpServer(bridge, {
        host: '127.0.0.1',
        port: mcpPort,
        version: packageVersion(),
      });
      inspector = await startInspector({
        bridge,
        relay,
        labControl: { url: lab.urls.control, token: lab.token },
      });

      io.stdout(
        [
          'mcp-lifeline running',
          `  MCP (Streamable HTTP)  ${server.url}`,
          `  inspector              ${inspector.url}`,
          `  lab evolution          ${lab.urls.evolution}`,
          `  lab agents             ${lab.urls.agents}`,
          `  lab a2a                ${lab.urls.a2a}`,
          `  lab lmStudio           ${lab.urls.lmStudio}`,
          `  lab control            ${lab.urls.control}  (Authorization: Bearer ${lab.token})`,
          '',
          'Inject a fault:',
          `  curl -X POST -H "Authorization: Bearer ${lab.token}" -d '{"down":true}' ${lab.urls.control}/faults/evolution`,
          'Ctrl-C stops everything.',
          '',
          '',
        ].join('\n'),
      );
      live.update(formatHealthSummary(bridge.health()));
      unsubscribe = bridge.onHealthChange((report) => live.update(formatHealthSummary(report)));
      const why = await untilStopped(io);
      if (io.isTTY) io.stdout('\n');
      io.stdout(`stopping (${why})…\n`);
    } finally {
      unsubscribe?.();
      await inspector?.stop();
      await server?.close();
      await bridge?.stop();
      relay.stop();
      await lab.stop();
    }
    io.stdout('mcp-lifeline stopped\n');
    return 0;
  });
}

/**
 * The terminal's status line: rewritten in place on a terminal, a new line per change otherwise.
 * `log` prints a message above it (on a terminal: clears the line, prints, draws it again).
 */
function liveLine(io: CliIO): { update(text: string): void; log(text: string): void } {
  let last = '';
  return {
    update(text) {
      if (text === last) return;
      last = text;
      if (io.isTTY) io.stdout(`\r\x1b[2K${text}`);
      else io.stdout(`${text}\n`);
    },
    log(text) {
      if (!io.isTTY || last === '') {
        io.stderr(text);
        return;
      }
      io.stdout('\r\x1b[2K');
      io.stderr(text);
      io.stdout(last);
    },
  };
}

let version: string | undefined;
/** This package's version (read from its package.json, found upward from this file). */
export function packageVersion(): string {
  version ??= readPackageVersion();
  return version;
}

function readPackageVersion(): string {
  for (const relative of ['../../package.json', '../../../package.json']) {
    try {
      const json = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (json.name === 'mcp-lifeline' && json.version) return json.version;
    } catch {
      // not there: try the next level (src/cli → root; dist/src/cli → root)
    }
  }
  return '0.0.0';
}
