/**
 * A tool discovered from an MCP backend keeps the backend's own `outputSchema`, listed unchanged, and
 * its answers stay acceptable to clients that validate against it; the upstream's own progress
 * reaches the caller (`onProgress`, or the MCP client's `notifications/progress`). The upstream is the reference
 * `server-everything` (its `get-structured-content` declares an output schema; `echo` does not),
 * spawned over stdio by the bridge's `mcp` backend; the clients are the official SDK's, v1
 * (2025-11-25) and v2 pinned to 2026-07-28, over the bridge's Streamable HTTP server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ToolProvider } from '../src/backends/kind.js';
import { mcpKind } from '../src/backends/mcp/index.js';
import { createBridge } from '../src/bridge/index.js';
import type { Bridge } from '../src/bridge/types.js';
import { type McpHttpServer, startMcpHttpServer } from '../src/mcp/http.js';
import { quietLogger, SOCKETS_OFF } from './bridge-fixtures.js';
import { referenceServer, waitFor } from './mcp-support.js';
import { type AnyClient, type ClientKind, httpClient } from './support/mcp-clients.js';

const STRUCTURED = 'everything__get-structured-content';
const LONG = 'everything__trigger-long-running-operation';
/** Three steps a second apart: the reports before the last are never read together with the result. */
const LONG_ARGS = { duration: 3, steps: 3 };

let bridge: Bridge;
let server: McpHttpServer;

beforeAll(async () => {
  bridge = createBridge({
    surface: false,
    logger: quietLogger,
    kinds: [mcpKind],
    backends: {
      ...SOCKETS_OFF,
      lmStudio: { enabled: false },
      everything: { kind: 'mcp', command: process.execPath, args: [referenceServer('everything'), 'stdio'] },
    },
  });
  bridge.start();
  await waitFor(() => bridge.listTools().some((tool) => tool.name === STRUCTURED), 30_000, 'tools listed');
  server = await startMcpHttpServer(bridge, { host: '127.0.0.1', port: 0 });
}, 60_000);

afterAll(async () => {
  await server?.close();
  await bridge?.stop();
});

/** The upstream's own listing of a tool, as the bridge's `mcp` backend received it. */
function upstreamTool(name: string) {
  const provider = bridge.backend('everything') as unknown as ToolProvider;
  return provider.listTools().find((tool) => tool.name === name);
}

function parsedText(result: Record<string, unknown>): Record<string, unknown> {
  const [block] = result.content as { type: string; text: string }[];
  return JSON.parse(block?.text ?? 'null') as Record<string, unknown>;
}

/**
 * What a caller sees of the upstream's progress. The upstream's report sent just before its result
 * can be lost between the SDK's client and its server (typescript-sdk#2580), so the last step is not
 * required: the earlier ones, in order, with the upstream's numbers and total, are.
 */
function expectUpstreamProgress(seen: { progress: number; total?: number; message?: string }[]): void {
  expect(seen.length).toBeGreaterThanOrEqual(1);
  seen.forEach((report, index) => {
    expect(report).toMatchObject({ progress: index + 1, message: `${LONG}: ${index + 1} of 3` });
    if (report.total !== undefined) expect(report.total).toBe(3);
  });
}

it("passes the upstream's progress to the caller's onProgress, numbered and totalled by the upstream", async () => {
  const seen: { progress: number; total?: number; message: string }[] = [];
  const result = await bridge.callTool(LONG, LONG_ARGS, { onProgress: (report) => seen.push(report) });
  expect(result.success).toBe(true);
  expectUpstreamProgress(seen);
  expect(seen.every((report) => report.total === 3)).toBe(true);
}, 30_000);

describe.each(['v1', 'v2 pinned 2026-07-28'] as ClientKind[])('%s client', (kind) => {
  let client: AnyClient;
  beforeAll(async () => {
    client = await httpClient(kind, new URL(server.url));
  });
  afterAll(async () => {
    await client?.close();
  });

  it("lists the upstream's outputSchema unchanged, and none for a tool that has none", async () => {
    const { tools } = await client.listTools();
    const structured = tools.find((tool) => tool.name === STRUCTURED);
    const own = upstreamTool('get-structured-content')?.outputSchema;
    expect(own).toMatchObject({ type: 'object', properties: { temperature: expect.any(Object) } });
    expect(structured?.outputSchema).toEqual(own);
    expect(tools.find((tool) => tool.name === 'everything__echo')).not.toHaveProperty('outputSchema');
  });

  it("passes the upstream's structured answer through (the client validates it)", async () => {
    const result = await client.callTool({ name: STRUCTURED, arguments: { location: 'Chicago' } });
    expect(result.isError ?? false).toBe(false);
    expect(result.structuredContent).toMatchObject({
      temperature: expect.any(Number),
      conditions: expect.any(String),
    });
  });

  it("answers the bridge's own failure as text only, so the upstream's schema is not contradicted", async () => {
    const result = await client.callTool({ name: STRUCTURED, arguments: { location: 'Paris' } });
    expect(result.isError).toBe(true);
    expect(result.structuredContent).toBeUndefined();
    expect(parsedText(result)).toMatchObject({
      success: false,
      error_code: 'INVALID_INPUT',
      field: 'location',
    });
  });

  it('a tool without an outputSchema keeps the structured failure', async () => {
    const result = await client.callTool({ name: 'everything__echo', arguments: { message: 5 } });
    expect(result.isError).toBe(true);
    expect(result.structuredContent).toMatchObject({ error_code: 'INVALID_INPUT', field: 'message' });
  });

  it("receives the upstream's progress as notifications/progress when it asked for it", async () => {
    const seen: { progress: number; total?: number; message?: string }[] = [];
    const result = await client.callTool(
      { name: LONG, arguments: LONG_ARGS },
      { onprogress: (report) => seen.push(report) },
    );
    expect(result.isError ?? false).toBe(false);
    expectUpstreamProgress(seen);
    expect(client.errors).toEqual([]);
  }, 30_000);
});
