/** Shared by the end-to-end tests: the lab, a config file with short timings, waiting. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { Lab } from '../../src/lab/index.js';

export const ROOT = resolve(import.meta.dirname, '../..');
/** tsx's CLI, run with this Node: `node <TSX_CLI> src/cli.ts …`. */
export const TSX_CLI = join(ROOT, 'node_modules/tsx/dist/cli.mjs');

/** `MCP_LIFELINE_*_URL` pointing at `lab`. */
export function labEnv(lab: Lab): Record<string, string> {
  return {
    MCP_LIFELINE_EVOLUTION_URL: lab.urls.evolution,
    MCP_LIFELINE_AGENTS_URL: lab.urls.agents,
    MCP_LIFELINE_A2A_URL: lab.urls.a2a,
    MCP_LIFELINE_LMSTUDIO_URL: lab.urls.lmStudio,
  };
}

/** The parent's environment (strings only) without any bridge variable, plus `extra`. */
export function childEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith('MCP_LIFELINE_') && !key.startsWith('WEBMCP_BRIDGE_'))
      env[key] = value;
  }
  return { ...env, ...extra };
}

/**
 * Writes a config file with short timings so that trips and recoveries take seconds, not 30 s:
 * sockets reconnect within 50 ms and their breakers retry after 1 s; LM Studio is probed every
 * 300 ms, each call is tried twice, its breaker opens after 4 failures and half-opens after 1.5 s.
 */
export function writeFastConfig(extra: Record<string, unknown> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-lifeline-e2e-'));
  const file = join(dir, 'mcp-lifeline.config.json');
  const socket = {
    options: { retry: { maxRetries: 2, baseDelayMs: 20, maxDelayMs: 50 }, breaker: { resetTimeoutMs: 1000 } },
  };
  const config = {
    healthCheckIntervalMs: 500,
    backends: {
      evolution: socket,
      agents: socket,
      a2a: socket,
      lmStudio: {
        options: {
          probeIntervalMs: 300,
          retry: { maxRetries: 1, baseDelayMs: 20, maxDelayMs: 50 },
          breaker: { failureThreshold: 4, resetTimeoutMs: 1500, resetJitter: 0 },
        },
      },
    },
    ...extra,
  };
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

/** Polls `check` every 50 ms until it returns a truthy value; throws after `timeoutMs`. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  timeoutMs: number,
  what: string,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A `serve` over stdio, spawned by the official v1 SDK client, with its stderr collected. */
export interface StdioServe {
  client: Client;
  transport: StdioClientTransport;
  /** Everything the child wrote to stderr so far. */
  stderr(): string;
}

/**
 * Spawns `node <tsx> src/cli.ts serve --config <config>` through the SDK's `StdioClientTransport`
 * (environment: the parent's without bridge variables, plus `env`) and connects a client named `name`.
 * `beforeConnect` runs before `initialize` (to set notification handlers).
 */
export async function serveOverStdio(options: {
  config: string;
  name: string;
  env?: Record<string, string>;
  beforeConnect?: (client: Client) => void;
}): Promise<StdioServe> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [TSX_CLI, 'src/cli.ts', 'serve', '--config', options.config],
    cwd: ROOT,
    env: childEnv(options.env ?? {}),
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const client = new Client({ name: options.name, version: '1.0.0' });
  options.beforeConnect?.(client);
  await client.connect(transport);
  return { client, transport, stderr: () => stderr };
}
