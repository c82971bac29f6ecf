/* The transport of one session with an upstream: Streamable HTTP for `url`, a supervised child for `command`. */
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Clock } from '../../clock.js';
import type { McpBackendConfig } from './config.js';
import { SupervisedStdioTransport } from './stdio-transport.js';

/** A new, unstarted transport for `config`. Stdio children get our environment plus `config.env`. */
export function createTransport(
  config: McpBackendConfig,
  clock: Clock,
  onStderr: (line: string) => void,
): Transport {
  if (config.url) {
    return new StreamableHTTPClientTransport(new URL(config.url), {
      requestInit: { headers: config.headers ?? {} },
    });
  }
  return new SupervisedStdioTransport({
    command: config.command as string,
    args: config.args ?? [],
    env: { ...process.env, ...config.env },
    ...(config.cwd ? { cwd: config.cwd } : {}),
    killGraceMs: config.killGraceMs ?? 2_000,
    clock,
    onStderr,
  });
}
