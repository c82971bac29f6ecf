/** What the CLI's commands share: log lines, loggers, reading the configuration, error handling. */

import { errorMessage } from '../../machines/error-message.js';
import { ConfigError } from '../bridge/errors.js';
import type { BridgeLogger } from '../bridge/types.js';
import { type LoadedConfig, loadConfig } from '../config.js';
import { UsageError } from './args.js';
import type { CliIO } from './io.js';

/** `[level] message {details}` and a newline. */
export function logLine(level: string, message: string, details?: Record<string, unknown>): string {
  return `[${level}] ${message}${details ? ` ${JSON.stringify(details)}` : ''}\n`;
}

/** Bridge logs for `serve`: stderr only (in stdio mode stdout carries the protocol). */
export function stderrLogger(io: CliIO): BridgeLogger {
  const line = (level: string) => (message: string, details?: Record<string, unknown>) =>
    io.stderr(logLine(level, message, details));
  return { warn: line('warn'), error: line('error'), info: line('info') };
}

export function quietLogger(): BridgeLogger {
  return { warn: () => {}, error: () => {} };
}

export function configOf(io: CliIO, file: string | undefined, overrides?: LoadedConfig): LoadedConfig {
  return loadConfig({
    ...(file === undefined ? {} : { file }),
    cwd: io.cwd,
    env: io.env,
    onDeprecation: (message) => io.stderr(`mcp-lifeline: ${message}\n`),
    ...(overrides ? { overrides } : {}),
  });
}

/** Runs a command body, turning usage and configuration errors into messages and exit code 2. */
export async function guarded(
  name: string,
  io: CliIO,
  usage: string,
  body: () => Promise<number>,
): Promise<number> {
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
    io.stderr(`mcp-lifeline ${name}: ${errorMessage(error)}\n`);
    return 1;
  }
}
