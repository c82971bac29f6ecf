/*
 * MCP upstreams as backends, against real, unmodified reference servers (stdio, run from
 * node_modules with `node`) and an SDK McpServer on Streamable HTTP on 127.0.0.1.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { z } from 'zod';
import { createMcpBackend, type McpBackend, mcpConfigSchema, mcpKind } from '../src/backends/mcp/index.js';
import { LAB_UPSTREAM, recordingLogger, referenceServer, testDeps, waitFor } from './mcp-support.js';

const backends: McpBackend[] = [];
afterEach(async () => {
  await Promise.all(backends.splice(0).map((b) => b.stop()));
}, 60_000);

function stdio(name: string, args: string[], extra: Record<string, unknown> = {}, deps = testDeps()) {
  const config = mcpConfigSchema.parse({ kind: 'mcp', command: process.execPath, args, ...extra });
  const backend = mcpKind.create(name, config, deps) as McpBackend;
  backends.push(backend);
  return backend;
}

const ready = (backend: McpBackend) =>
  waitFor(() => backend.state === 'READY', 15_000, `${backend.name} READY`);
const textOf = (result: { content: unknown[] }) => (result.content[0] as { text: string }).text;

test('server-everything: lists its tools and calls echo and get-sum; results pass through unchanged', async () => {
  const backend = stdio('everything', [referenceServer('everything'), 'stdio']);
  expect(backend.state).toBe('IDLE');
  backend.start();
  await ready(backend);
  const names = backend.listTools().map((t) => t.name);
  expect(names).toEqual(expect.arrayContaining(['echo', 'get-sum', 'get-structured-content']));
  expect(backend.toolPrefix).toBe('everything');
  const echoed = await backend.callTool('echo', { message: 'hello' });
  expect(textOf(echoed)).toBe('Echo: hello');
  const sum = await backend.callTool('get-sum', { a: 2, b: 3 });
  expect(textOf(sum)).toContain('5');
  const structured = await backend.callTool('get-structured-content', { location: 'New York' });
  expect(structured.structuredContent).toBeDefined();
  expect(backend.status()).toMatchObject({ kind: 'mcp', status: 'pass', state: 'READY', breaker: 'CLOSED' });
}, 60_000);

test('server-memory: creates and reads entities in its own file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-memory-'));
  const backend = stdio('memory', [referenceServer('memory')], {
    env: { MEMORY_FILE_PATH: join(dir, 'memory.jsonl') },
  });
  backend.start();
  await ready(backend);
  expect(backend.listTools().map((t) => t.name)).toEqual(
    expect.arrayContaining(['create_entities', 'read_graph']),
  );
  await backend.callTool('create_entities', {
    entities: [{ name: 'lifeline', entityType: 'project', observations: ['keeps upstreams usable'] }],
  });
  const graph = await backend.callTool('read_graph', {});
  expect(JSON.stringify(graph)).toContain('keeps upstreams usable');
}, 60_000);

test('server-filesystem: reads a file of the directory it was given; a tool error is not a failure', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-fs-'));
  writeFileSync(join(dir, 'note.txt'), 'from the filesystem server');
  const backend = stdio('files', [referenceServer('filesystem'), dir], {
    prefix: 'fs',
    exclude: ['write_file'],
  });
  backend.start();
  await ready(backend);
  const read = backend.listTools().find((t) => t.name === 'read_text_file') ? 'read_text_file' : 'read_file';
  const result = await backend.callTool(read, { path: join(dir, 'note.txt') });
  expect(textOf(result)).toContain('from the filesystem server');
  const outside = await backend.callTool(read, { path: '/etc/hostname' });
  expect(outside.isError).toBe(true);
  expect(backend.breaker.metrics().totalFailures).toBe(0);
  expect(backend.toolPrefix).toBe('fs');
  expect(backend.exposes?.('write_file')).toBe(false);
  expect(backend.exposes?.(read)).toBe(true);
}, 60_000);

test('lab upstream: tool list changes are followed (notifications/tools/list_changed)', async () => {
  const backend = stdio('lab', [LAB_UPSTREAM]);
  let changes = 0;
  backend.onToolsChanged(() => changes++);
  backend.start();
  await ready(backend);
  const before = changes;
  await backend.callTool('add_tool', { name: 'brand_new' });
  await waitFor(() => backend.listTools().some((t) => t.name === 'brand_new'), 5_000, 'the new tool');
  expect(changes).toBe(before + 1);
  expect(textOf(await backend.callTool('brand_new', {}))).toBe('brand_new');
}, 60_000);

test('the last known tool list survives a restart of the bridge (data directory)', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'mcp-data-'));
  const first = stdio('lab', [LAB_UPSTREAM], {}, testDeps({ dataDir }));
  first.start();
  await ready(first);
  await first.stop();
  // The next bridge starts with the server unable to start: the saved list is listed anyway.
  const second = stdio('lab', [LAB_UPSTREAM], { env: { LAB_EXIT_AT_START: '1' } }, testDeps({ dataDir }));
  expect(second.listTools().map((t) => t.name)).toEqual(expect.arrayContaining(['echo', 'crash']));
  second.start();
  await waitFor(() => second.state === 'RESTARTING', 10_000, 'RESTARTING');
  const error = await second.callTool('echo', { text: 'x' }).catch((e: unknown) => e);
  expect(error).toMatchObject({ name: 'BackendUnavailableError', state: 'RESTARTING' });
  expect((error as { retryAfterMs: number }).retryAfterMs).toBeGreaterThanOrEqual(0);
}, 60_000);

test('config: errors name the field at fault', () => {
  const issue = (value: unknown) => mcpConfigSchema.safeParse(value).error?.issues[0]?.path.join('.');
  expect(issue({ kind: 'mcp' })).toBe('command');
  expect(issue({ kind: 'mcp', command: 'node', url: 'http://127.0.0.1:1/mcp' })).toBe('url');
  expect(issue({ kind: 'mcp', url: 'http://127.0.0.1:1/mcp', env: { A: 'b' } })).toBe('env');
  expect(issue({ kind: 'mcp', command: 'node', timeoutMs: -1 })).toBe('timeoutMs');
  expect(issue({ kind: 'mcp', command: 'node', breaker: { failureThreshold: 0 } })).toBe(
    'breaker.failureThreshold',
  );
  expect(issue({ kind: 'mcp', command: 'node', comand: 'x' })).toBe('');
  expect(mcpKind.kind).toBe('mcp');
}, 60_000);

describeHttp();

function describeHttp() {
  let server: Server;
  let url: string;
  const seenAuth: string[] = [];
  beforeAll(async () => {
    // Stateless Streamable HTTP: a fresh McpServer and transport per request.
    server = createServer(async (req, res) => {
      seenAuth.push(String(req.headers.authorization));
      const mcp = new McpServer({ name: 'http-upstream', version: '1.0.0' });
      mcp.registerTool(
        'add',
        {
          description: 'Adds.',
          inputSchema: { a: z.number(), b: z.number() },
          annotations: { readOnlyHint: true },
        },
        async ({ a, b }) => ({
          content: [{ type: 'text', text: String(a + b) }],
          structuredContent: { sum: a + b },
        }),
      );
      const transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: undefined,
        enableJsonResponse: true,
      });
      res.on('close', () => {
        void transport.close();
        void mcp.close();
      });
      await mcp.connect(transport);
      await transport.handleRequest(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test('Streamable HTTP upstream: lists and calls; the Authorization header is sent and never shown', async () => {
    const logger = recordingLogger();
    const config = mcpConfigSchema.parse({
      kind: 'mcp',
      url,
      headers: { Authorization: 'Bearer sk-http-secret-123' },
    });
    const backend = createMcpBackend('remote', config, testDeps({ logger }));
    backends.push(backend);
    backend.start();
    await ready(backend);
    expect(backend.listTools().map((t) => t.name)).toEqual(['add']);
    const result = await backend.callTool('add', { a: 20, b: 22 });
    expect(result).toEqual({ content: [{ type: 'text', text: '42' }], structuredContent: { sum: 42 } });
    expect(seenAuth).toContain('Bearer sk-http-secret-123');
    expect(JSON.stringify(backend.status())).not.toContain('sk-http-secret-123');
    expect(logger.entries.join('\n')).not.toContain('sk-http-secret-123');
  });
}
