/*
 * Shared by the protocol-era tests: the three MCP clients of the matrix (SDK v1, SDK v2 default,
 * SDK v2 pinned to 2026-07-28), connected over stdio (spawning `serve`) or Streamable HTTP, and a
 * `serve --http` child process. Every client is the official SDK's; nothing here writes JSON-RPC.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  Client as ClientV2,
  type ClientOptions as ClientV2Options,
  StreamableHTTPClientTransport as HttpV2,
} from '@modelcontextprotocol/client';
import { StdioClientTransport as StdioV2 } from '@modelcontextprotocol/client/stdio';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport as StdioV1 } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport as HttpV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { childEnv, ROOT, TSX_CLI, waitFor } from '../e2e/helpers.js';

export const MODERN = '2026-07-28';
export type ClientKind = 'v1' | 'v2 default' | 'v2 pinned 2026-07-28' | 'v2 auto';
export const CLIENT_KINDS: ClientKind[] = ['v1', 'v2 default', 'v2 pinned 2026-07-28'];

/** What the tests use of either SDK's client. */
export interface AnyClient {
  listTools(): Promise<{ tools: { name: string; outputSchema?: unknown }[] }>;
  callTool(
    params: { name: string; arguments?: Record<string, unknown> },
    options?: {
      signal?: AbortSignal;
      onprogress?: (progress: { progress: number; message?: string }) => void;
    },
  ): Promise<Record<string, unknown>>;
  close(): Promise<void>;
  /** The protocol revision the client negotiated (SDK v2 clients only). */
  protocolVersion?(): string | undefined;
  /** Messages of the errors the client reported through `onerror` (e.g. a stray progress token). */
  readonly errors: string[];
}

function v2Options(kind: ClientKind): ClientV2Options {
  if (kind === 'v2 pinned 2026-07-28') return { versionNegotiation: { mode: { pin: MODERN } } };
  if (kind === 'v2 auto') return { versionNegotiation: { mode: 'auto' } };
  return {};
}

function wrapV1(client: ClientV1): AnyClient {
  const errors: string[] = [];
  client.onerror = (error) => errors.push(error.message);
  return {
    errors,
    listTools: () => client.listTools() as ReturnType<AnyClient['listTools']>,
    callTool: (params, options) =>
      client.callTool(params, undefined, options) as Promise<Record<string, unknown>>,
    close: () => client.close(),
  };
}

function wrapV2(client: ClientV2): AnyClient {
  const errors: string[] = [];
  client.onerror = (error) => errors.push(error.message);
  return {
    errors,
    protocolVersion: () => client.getNegotiatedProtocolVersion(),
    listTools: () => client.listTools() as ReturnType<AnyClient['listTools']>,
    callTool: (params, options) =>
      client.callTool(params, options) as unknown as Promise<Record<string, unknown>>,
    close: () => client.close(),
  };
}

/** A client of `kind` connected to `serve` spawned over stdio with `args` and `env`. */
export async function stdioClient(
  kind: ClientKind,
  args: string[],
  env: Record<string, string>,
): Promise<AnyClient> {
  const params = {
    command: process.execPath,
    args: [TSX_CLI, 'src/cli.ts', 'serve', ...args],
    cwd: ROOT,
    env: childEnv(env),
    stderr: 'pipe' as const,
  };
  const info = { name: `eras-${kind}`, version: '1.0.0' };
  if (kind === 'v1') {
    const client = new ClientV1(info);
    await client.connect(new StdioV1(params));
    return wrapV1(client);
  }
  const client = new ClientV2(info, v2Options(kind));
  await client.connect(new StdioV2(params));
  return wrapV2(client);
}

/** A client of `kind` connected over Streamable HTTP to `url`, sending `headers`. */
export async function httpClient(
  kind: ClientKind,
  url: URL,
  headers: Record<string, string> = {},
): Promise<AnyClient> {
  const info = { name: `eras-${kind}`, version: '1.0.0' };
  const requestInit = { headers };
  if (kind === 'v1') {
    const client = new ClientV1(info);
    await client.connect(new HttpV1(url, { requestInit }));
    return wrapV1(client);
  }
  const client = new ClientV2(info, v2Options(kind));
  await client.connect(new HttpV2(url, { requestInit }));
  return wrapV2(client);
}

/** A running `serve --http` child: its MCP URL, output so far, and a stop function. */
export interface ServeChild {
  child: ChildProcess;
  url: URL;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Spawns `serve --http <listen> …args` and resolves once it printed its URL. */
export async function spawnServeHttp(
  args: string[],
  env: Record<string, string>,
  listen = '127.0.0.1:0',
): Promise<ServeChild> {
  const child = spawn(process.execPath, [TSX_CLI, 'src/cli.ts', 'serve', '--http', listen, ...args], {
    cwd: ROOT,
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const match = await waitFor(
    () => /at (http:\/\/\S+\/mcp)/.exec(stdout) ?? (child.exitCode !== null ? 'exited' : null),
    60_000,
    'the MCP URL on stdout',
  );
  if (match === 'exited') throw new Error(`serve exited: ${stderr}`);
  return {
    child,
    url: new URL((match as RegExpExecArray)[1] as string),
    output: () => stdout + stderr,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/** Runs `use` with the client `connecting` resolves to, and closes that client however `use` ends. */
export async function withClient<T>(
  connecting: Promise<AnyClient>,
  use: (client: AnyClient) => Promise<T>,
): Promise<T> {
  const client = await connecting;
  try {
    return await use(client);
  } finally {
    await client.close();
  }
}

/** How to start `serve` for {@link itOverStdioAndHttp}: read when the tests run, after `beforeAll`. */
export interface ServeSetup {
  args: string[];
  env: Record<string, string>;
}

/**
 * One behaviour of `serve` for a client of `kind`, checked over stdio (`serve` spawned for the test)
 * and over Streamable HTTP (one `serve --http` child for the block).
 */
export function itOverStdioAndHttp(
  kind: ClientKind,
  title: string,
  setup: () => ServeSetup,
  check: (client: AnyClient) => Promise<void>,
  timeoutMs = 60_000,
): void {
  it(
    `over stdio ${title}`,
    async () => {
      const { args, env } = setup();
      await withClient(stdioClient(kind, args, env), check);
    },
    timeoutMs,
  );

  describe('over Streamable HTTP', () => {
    let serve: ServeChild;
    beforeAll(async () => {
      const { args, env } = setup();
      serve = await spawnServeHttp(args, env);
    }, 60_000);
    afterAll(async () => {
      await serve?.stop();
    });

    it(
      title,
      async () => {
        await withClient(httpClient(kind, serve.url), check);
      },
      timeoutMs,
    );
  });
}
