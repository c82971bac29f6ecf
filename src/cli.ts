/**
 * `mcp-lifeline` command line: serve | lab | health | start. `main(argv)` resolves with the exit
 * code; run directly (`tsx src/cli.ts …`) or through `bin/mcp-lifeline.js`. Each command's module
 * is loaded only when that command runs, so `--help` and `serve` load nothing of the lab, the
 * inspector or its page server.
 */

import { type CliIO, processIO } from './cli/io.js';
import { packageVersion } from './cli/version.js';
import { isMainModule } from './is-main.js';
import { withLegacyEnv } from './legacy-names.js';

export type { CliIO } from './cli/io.js';

export const USAGE = `Usage: mcp-lifeline <command> [options]

Gives AI agents tools (WebMCP, MCP) and keeps the WebSocket and HTTP backends behind them usable
when they fail.

Commands:
  serve    MCP server over stdio, or Streamable HTTP with --http 127.0.0.1:PORT
  lab      local backends (evolution, agents, a2a, LM Studio) with fault injection
  health   connect to the backends once and print the health report (--json)
  start    lab + bridge + MCP over HTTP + inspector page together, with a live health line

Options:
  -h, --help      show this help (or: mcp-lifeline <command> --help)
  -v, --version   print the version

Configuration: ./mcp-lifeline.config.json or --config FILE; environment
MCP_LIFELINE_{EVOLUTION,AGENTS,A2A,LMSTUDIO}_URL overrides the backend URLs.
`;

interface Command {
  run: (argv: readonly string[], io: CliIO) => Promise<number>;
  usage: string;
}

const COMMANDS: Record<string, () => Promise<Command>> = {
  serve: async () => {
    const { serveCommand, SERVE_USAGE } = await import('./cli/serve.js');
    return { run: serveCommand, usage: SERVE_USAGE };
  },
  lab: async () => {
    const { labCommand, LAB_USAGE } = await import('./cli/lab.js');
    return { run: labCommand, usage: LAB_USAGE };
  },
  health: async () => {
    const { healthCommand, HEALTH_USAGE } = await import('./cli/health.js');
    return { run: healthCommand, usage: HEALTH_USAGE };
  },
  start: async () => {
    const { startCommand, START_USAGE } = await import('./cli/start.js');
    return { run: startCommand, usage: START_USAGE };
  },
};

function commandNamed(name: string | undefined): (() => Promise<Command>) | undefined {
  return name !== undefined && Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
}

/** Runs the CLI with `argv` (without `node` and the script) and resolves with the exit code. */
export async function main(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h') {
    io.stdout(USAGE);
    return 0;
  }
  if (first === '--version' || first === '-v') {
    io.stdout(`${packageVersion()}\n`);
    return 0;
  }
  if (first === 'help') {
    const topic = rest[0];
    const load = commandNamed(topic);
    io.stdout(load ? (await load()).usage : USAGE);
    return topic === undefined || load ? 0 : 2;
  }
  const load = commandNamed(first);
  if (!load) {
    io.stderr(`mcp-lifeline: unknown command "${first}"\n\n${USAGE}`);
    return 2;
  }
  const command = await load();
  return command.run(rest, {
    ...io,
    env: withLegacyEnv(io.env, (line) => io.stderr(`mcp-lifeline: ${line}\n`)),
  });
}

/** Runs `main` for this process and exits with its code (even if a stray handle lingers). */
export function runMain(argv: readonly string[] = process.argv.slice(2)): void {
  main(argv).then(
    (code) => {
      process.exitCode = code;
      setTimeout(() => process.exit(code), 1000).unref();
    },
    (error: unknown) => {
      process.stderr.write(
        `mcp-lifeline: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exit(1);
    },
  );
}

if (isMainModule(import.meta.url)) runMain();
