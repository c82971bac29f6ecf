/**
 * `mcp-lifeline lab`: runs the lab until SIGINT/SIGTERM (or `signal`). Also runs on its own:
 * `npx tsx src/lab/main.ts [--ws-port N] [--http-port N] [--control-port N] [--token T]`.
 */

import { errorMessage } from '../../machines/error-message.js';
import { isMainModule } from '../is-main.js';
import { type Lab, type LabOptions, startLab } from './index.js';

export const LAB_USAGE = `Usage: mcp-lifeline lab [options]

Runs local backends on 127.0.0.1 that speak the bridge's wire formats, with fault injection.

Options:
  --host H            interface of the WebSocket and HTTP servers (default 127.0.0.1)
  --ws-port N         WebSocket port: /evolution, /agents, /a2a (default 8765, 0 = random)
  --http-port N       OpenAI-compatible API port (default 1234, 0 = random)
  --control-port N    fault-control API port, always on 127.0.0.1 (default 0 = random)
  --token T           control API bearer token (default: $MCP_LIFELINE_LAB_TOKEN or a random one)
  --seed N            seed of the errorRate sequences (default 1)
  -h, --help          show this help
`;

export interface RunLabIO {
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
  /** Stops the lab when aborted (besides SIGINT/SIGTERM). */
  signal?: AbortSignal;
  /** Called once the lab listens. */
  onReady?: (lab: Lab) => void;
  /** Install SIGINT/SIGTERM handlers. Default true. */
  handleSignals?: boolean;
  env?: NodeJS.ProcessEnv;
}

export class LabUsageError extends Error {
  override name = 'LabUsageError';
}

/** Parses the lab's command-line options. Throws `LabUsageError` naming the bad option. */
export function parseLabArgs(argv: readonly string[], env: NodeJS.ProcessEnv = {}): LabOptions | 'help' {
  const options: LabOptions = {};
  const envToken = env.MCP_LIFELINE_LAB_TOKEN;
  if (envToken) options.token = envToken;
  const port = (flag: string, value: string | undefined): number => {
    const n = Number(value);
    if (value === undefined || !/^\d+$/.test(value) || n > 65535) {
      throw new LabUsageError(`${flag} needs a port number 0-65535, got ${value ?? 'nothing'}`);
    }
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i] as string;
    const eq = raw.indexOf('=');
    const flag = raw.startsWith('--') && eq > 0 ? raw.slice(0, eq) : raw;
    const inline = raw.startsWith('--') && eq > 0 ? raw.slice(eq + 1) : undefined;
    const value = (): string | undefined => (inline !== undefined ? inline : argv[++i]);
    switch (flag) {
      case '-h':
      case '--help':
        return 'help';
      case '--host': {
        const v = value();
        if (!v) throw new LabUsageError('--host needs a value');
        options.host = v;
        break;
      }
      case '--ws-port':
        options.wsPort = port(flag, value());
        break;
      case '--http-port':
        options.httpPort = port(flag, value());
        break;
      case '--control-port':
        options.controlPort = port(flag, value());
        break;
      case '--token': {
        const v = value();
        if (!v || v.length < 8 || /\s/.test(v))
          throw new LabUsageError('--token needs ≥ 8 characters, no spaces');
        options.token = v;
        break;
      }
      case '--seed': {
        const v = value();
        if (v === undefined || !/^\d+$/.test(v))
          throw new LabUsageError('--seed needs a non-negative integer');
        options.seed = Number(v);
        break;
      }
      default:
        throw new LabUsageError(`unknown option ${raw}`);
    }
  }
  return options;
}

export function formatLabBanner(lab: Lab): string {
  const { urls } = lab;
  return [
    'mcp-lifeline lab running',
    `  evolution  ${urls.evolution}`,
    `  agents     ${urls.agents}`,
    `  a2a        ${urls.a2a}`,
    `  lmStudio   ${urls.lmStudio}`,
    `  control    ${urls.control}`,
    `  token      ${lab.token}`,
    '',
    'Inject a fault:',
    `  curl -X POST -H "Authorization: Bearer ${lab.token}" -d '{"down":true}' ${urls.control}/faults/evolution`,
    `  curl -X POST -H "Authorization: Bearer ${lab.token}" ${urls.control}/reset`,
    'Ctrl-C stops the lab.',
    '',
  ].join('\n');
}

/**
 * Starts the lab, prints its URLs and control token, and resolves with an exit code once it has
 * stopped (SIGINT, SIGTERM or `io.signal`): 0 after a clean stop, 1 when it could not start, 2 for
 * bad arguments.
 */
export async function runLab(argv: readonly string[], io: RunLabIO = {}): Promise<number> {
  const out = io.stdout ?? ((text: string) => process.stdout.write(text));
  const err = io.stderr ?? ((text: string) => process.stderr.write(text));
  let options: LabOptions | 'help';
  try {
    options = parseLabArgs(argv, io.env ?? process.env);
  } catch (error) {
    if (!(error instanceof LabUsageError)) throw error;
    err(`mcp-lifeline lab: ${error.message}\n\n${LAB_USAGE}`);
    return 2;
  }
  if (options === 'help') {
    out(LAB_USAGE);
    return 0;
  }
  if (io.signal?.aborted) return 0;
  let lab: Lab;
  try {
    lab = await startLab({
      ...options,
      logger: {
        warn: (message, data) => err(`${message}${data ? ` ${JSON.stringify(data)}` : ''}\n`),
        error: (message, data) => err(`${message}${data ? ` ${JSON.stringify(data)}` : ''}\n`),
      },
    });
  } catch (error) {
    // The lab's own errors start with "lab: "; say it once.
    const message = errorMessage(error);
    err(`mcp-lifeline lab: ${message.replace(/^lab: /, '')}\n`);
    return 1;
  }
  out(formatLabBanner(lab));
  io.onReady?.(lab);

  await new Promise<void>((resolve) => {
    const handleSignals = io.handleSignals ?? true;
    const finish = () => {
      if (handleSignals) {
        process.off('SIGINT', finish);
        process.off('SIGTERM', finish);
      }
      io.signal?.removeEventListener('abort', finish);
      resolve();
    };
    if (handleSignals) {
      process.once('SIGINT', finish);
      process.once('SIGTERM', finish);
    }
    io.signal?.addEventListener('abort', finish, { once: true });
    if (io.signal?.aborted) finish();
  });
  await lab.stop();
  out('mcp-lifeline lab stopped\n');
  return 0;
}

if (isMainModule(import.meta.url)) {
  runLab(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error) => {
      process.stderr.write(`mcp-lifeline lab: ${String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
