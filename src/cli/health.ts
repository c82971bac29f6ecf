/** `mcp-lifeline health`: one health report of the configured backends. */
import { createNodeBridge } from '../bridge/node.js';
import type { Bridge, HealthReport } from '../bridge/types.js';
import { parseArgs, UsageError } from './args.js';
import { formatHealthReport } from './format.js';
import type { CliIO } from './io.js';
import { configOf, guarded, quietLogger } from './shared.js';

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
