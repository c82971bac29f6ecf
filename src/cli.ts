/**
 * `mcp-lifeline` command line: serve | lab | health | start. `main(argv)` resolves with the exit
 * code; run directly (`tsx src/cli.ts …`) or through `bin/mcp-lifeline.js`.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  HEALTH_USAGE,
  healthCommand,
  labCommand,
  packageVersion,
  SERVE_USAGE,
  START_USAGE,
  serveCommand,
  startCommand,
} from './cli/commands.js';
import { type CliIO, processIO } from './cli/io.js';
import { LAB_USAGE } from './lab/main.js';

export type { CliIO } from './cli/io.js';

export const USAGE = `Usage: mcp-lifeline <command> [options]

Gives AI agents tools (WebMCP, MCP) and keeps the WebSocket and HTTP backends behind them usable
when they fail.

Commands:
  serve    MCP server over stdio, or Streamable HTTP with --http 127.0.0.1:PORT
  lab      local backends (evolution, agents, a2a, LM Studio) with fault injection
  health   connect to the backends once and print the health report (--json)
  start    lab + bridge + MCP over HTTP together, with a live health line

Options:
  -h, --help      show this help (or: mcp-lifeline <command> --help)
  -v, --version   print the version

Configuration: ./mcp-lifeline.config.json or --config FILE; environment
MCP_LIFELINE_{EVOLUTION,AGENTS,A2A,LMSTUDIO}_URL overrides the backend URLs.
`;

const COMMANDS: Record<
  string,
  { run: (argv: readonly string[], io: CliIO) => Promise<number>; usage: string }
> = {
  serve: { run: serveCommand, usage: SERVE_USAGE },
  lab: { run: labCommand, usage: LAB_USAGE },
  health: { run: healthCommand, usage: HEALTH_USAGE },
  start: { run: startCommand, usage: START_USAGE },
};

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
    const command = topic === undefined ? undefined : COMMANDS[topic];
    io.stdout(command ? command.usage : USAGE);
    return topic === undefined || command ? 0 : 2;
  }
  const command = COMMANDS[first];
  if (!command) {
    io.stderr(`mcp-lifeline: unknown command "${first}"\n\n${USAGE}`);
    return 2;
  }
  return command.run(rest, io);
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

function isMain(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) runMain();
