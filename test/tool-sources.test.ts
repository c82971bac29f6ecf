/**
 * Backend kinds and tool sources as plug-ins: a kind given in `kinds` is validated by its own
 * `configSchema` and builds a backend that provides tools. The upstream is a real MCP server (the
 * official SDK's McpServer, reached by the SDK's Client over its in-memory transport), wrapped in
 * a small ToolProvider backend written here — the `mcp` kind itself is built elsewhere.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { BackendKindPlugin, RemoteCallResult, RemoteTool, ToolProvider } from '../src/backends/kind.js';
import { commonBackendSettings } from '../src/backends/kinds/schema.js';
import type { Backend } from '../src/backends/types.js';
import { createBridge } from '../src/bridge/create-bridge.js';
import type { Bridge } from '../src/bridge/types.js';
import { createManualClock } from '../src/clock.js';
import { createMcpServer } from '../src/mcp/server.js';
import { createCircuitBreaker } from '../src/reliability/breaker.js';
import { waitFor } from './e2e/helpers.js';
import { configErrorOf } from './support/config-error.js';

const quiet = { warn: () => {}, error: () => {} };
const OFF = { enabled: false } as const;

interface Upstream {
  server: McpServer;
  slowAborted: boolean;
}

function startUpstream(): Upstream {
  const upstream: Upstream = { server: new McpServer({ name: 'up', version: '1.0.0' }), slowAborted: false };
  upstream.server.registerTool(
    'echo',
    {
      title: 'Echo',
      description: 'Says it back',
      inputSchema: { text: z.string().min(2) },
      annotations: { readOnlyHint: true },
    },
    async ({ text }) => ({
      content: [{ type: 'text', text: `echo: ${text}` }],
      structuredContent: { echoed: text },
    }),
  );
  upstream.server.registerTool('fail', { description: 'Always fails' }, async () => ({
    content: [{ type: 'text', text: 'upstream says no' }],
    isError: true,
  }));
  upstream.server.registerTool('slow', { description: 'Waits to be cancelled' }, async (extra) => {
    await new Promise<void>((resolve) =>
      extra.signal.addEventListener('abort', () => resolve(), { once: true }),
    );
    upstream.slowAborted = true;
    return { content: [] };
  });
  upstream.server.registerTool('hidden', { description: 'Not exposed' }, async () => ({ content: [] }));
  return upstream;
}

type TestMcpConfig = { kind: 'test-mcp'; upstream: string; critical?: boolean; enabled?: boolean };

/** A ToolProvider backend over an SDK client connected to `upstream`. */
function upstreamKind(upstreams: Map<string, Upstream>): BackendKindPlugin<TestMcpConfig> {
  return {
    kind: 'test-mcp',
    configSchema: z.strictObject({
      kind: z.literal('test-mcp'),
      upstream: z.string({ error: 'expected the name of an upstream' }).min(1),
      ...commonBackendSettings,
    }),
    create(name, config, deps): Backend & ToolProvider {
      const breaker = createCircuitBreaker({ name, clock: deps.clock });
      const client = new Client({ name: 'bridge', version: '1.0.0' });
      const listeners = new Set<() => void>();
      let tools: RemoteTool[] = [];
      const refresh = async () => {
        tools = (await client.listTools()).tools as RemoteTool[];
        for (const listener of [...listeners]) listener();
      };
      return {
        name,
        kind: 'test-mcp',
        breaker,
        actor: breaker.actor,
        start() {
          const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
          void (upstreams.get(config.upstream) as Upstream).server.connect(serverSide).then(async () => {
            client.setNotificationHandler(ToolListChangedNotificationSchema, () => refresh());
            await client.connect(clientSide);
            await refresh();
          });
        },
        async stop() {
          await client.close();
          breaker.stop();
        },
        status: () => ({
          kind: 'test-mcp',
          status: 'pass',
          state: 'CONNECTED',
          breaker: breaker.state,
          consecutiveFailures: 0,
          lastCheckAt: null,
          lastSuccessAt: null,
          lastError: null,
          latencyMs: null,
          critical: deps.critical,
        }),
        async probe() {},
        subscribe: () => () => {},
        listTools: () => tools,
        onToolsChanged(listener) {
          listeners.add(listener);
          return () => listeners.delete(listener);
        },
        callTool: (tool, args, options) =>
          breaker.execute(
            async () =>
              (await client.callTool({ name: tool, arguments: args }, undefined, {
                ...(options?.signal ? { signal: options.signal } : {}),
              })) as RemoteCallResult,
          ),
        exposes: (tool) => tool !== 'hidden',
      };
    },
  };
}

let bridge: Bridge | undefined;
const clients: Client[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) await client.close();
  await bridge?.stop();
  bridge = undefined;
});

async function upstreamBridge(): Promise<{ bridge: Bridge; upstream: Upstream }> {
  const upstream = startUpstream();
  bridge = createBridge({
    logger: quiet,
    clock: createManualClock(),
    kinds: [upstreamKind(new Map([['u1', upstream]]))],
    backends: {
      evolution: OFF,
      agents: OFF,
      a2a: OFF,
      lmStudio: OFF,
      up: { kind: 'test-mcp', upstream: 'u1' },
    },
  });
  await bridge.start();
  const b = bridge;
  await waitFor(() => b.listTools().some((tool) => tool.name === 'up__echo'), 2_000, 'tools discovered');
  return { bridge: b, upstream };
}

async function mcpClient(b: Bridge): Promise<Client> {
  const server = createMcpServer(b);
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: 'agent', version: '1.0.0' });
  clients.push(client);
  await client.connect(clientSide);
  return client;
}

describe('backend kinds are plug-ins', () => {
  it("a backend's entry is validated by its kind's configSchema; errors name the field", () => {
    const kinds = [upstreamKind(new Map())];
    const bad = configErrorOf(() =>
      createBridge({ logger: quiet, kinds, backends: { up: { kind: 'test-mcp', upstream: 5 } } }),
    );
    expect(bad.key).toBe('backends.up.upstream');
    expect(bad.message).toBe('backends.up.upstream: expected the name of an upstream');
    const unknown = configErrorOf(() =>
      createBridge({ logger: quiet, kinds, backends: { up: { kind: 'test-mcp', upstream: 'u', extra: 1 } } }),
    );
    expect(unknown.message).toBe('backends.up.extra: unknown setting');
    const missing = configErrorOf(() =>
      createBridge({ logger: quiet, backends: { up: { kind: 'test-mcp', upstream: 'u' } } }),
    );
    expect(missing.key).toBe('backends.up.kind');
    expect(missing.message).toMatch(/'websocket', 'http'/);
    const url = configErrorOf(() =>
      createBridge({ logger: quiet, backends: { x: { kind: 'http', url: 'ws://h' } } }),
    );
    expect(url.message).toBe('backends.x.url: expected a http:// or https:// URL');
  });

  it('BackendHealth.kind takes the kind', async () => {
    const { bridge: b } = await upstreamBridge();
    expect(b.health().backends.up?.kind).toBe('test-mcp');
    expect(b.backendNames()).toEqual(['up']);
  });
});

describe('tools discovered from a backend', () => {
  it('are listed as <backend>__<tool> with their title, annotations and schema; exposes() filters', async () => {
    const { bridge: b } = await upstreamBridge();
    const names = b.listTools().map((tool) => tool.name);
    expect(names).toEqual(expect.arrayContaining(['up__echo', 'up__fail', 'up__slow', 'get_os_state']));
    expect(names).not.toContain('up__hidden');
    const echo = b.listTools().find((tool) => tool.name === 'up__echo');
    expect(echo).toMatchObject({
      title: 'Echo',
      description: 'Says it back',
      annotations: { readOnlyHint: true },
      inputSchema: { type: 'object', properties: { text: { type: 'string', minLength: 2 } } },
    });
    const listed = (await (await mcpClient(b)).listTools()).tools.find((tool) => tool.name === 'up__echo');
    expect(listed).toMatchObject({ title: 'Echo', annotations: { readOnlyHint: true } });
  });

  it("validate arguments against the tool's JSON Schema, naming the field", async () => {
    const { bridge: b } = await upstreamBridge();
    expect(await b.callTool('up__echo', { text: 1 })).toMatchObject({
      success: false,
      error_code: 'INVALID_INPUT',
      field: 'text',
    });
    expect(await b.callTool('up__echo', { text: 'x' })).toMatchObject({ field: 'text' });
  });

  it('pass their results through to MCP clients unchanged (content, isError, structuredContent)', async () => {
    const { bridge: b } = await upstreamBridge();
    const client = await mcpClient(b);
    expect(await client.callTool({ name: 'up__echo', arguments: { text: 'hi' } })).toEqual({
      content: [{ type: 'text', text: 'echo: hi' }],
      structuredContent: { echoed: 'hi' },
    });
    expect(await client.callTool({ name: 'up__fail', arguments: {} })).toEqual({
      content: [{ type: 'text', text: 'upstream says no' }],
      isError: true,
    });
    expect(await b.callTool('up__fail', {})).toMatchObject({
      success: false,
      error_code: 'EXECUTION_FAILED',
      error: 'upstream says no',
    });
  });

  it('a change of the list reaches MCP clients as notifications/tools/list_changed', async () => {
    const { bridge: b, upstream } = await upstreamBridge();
    const client = await mcpClient(b);
    let notified = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      notified++;
    });
    upstream.server.registerTool('later', { description: 'Added later' }, async () => ({ content: [] }));
    await waitFor(() => notified > 0, 2_000, 'list_changed from the bridge');
    expect((await client.listTools()).tools.map((tool) => tool.name)).toContain('up__later');
    const before = notified;
    const remove = b.registerTool({
      name: 'host_tool',
      description: 'A host tool',
      inputSchema: z.object({}),
      handler: () => ({}),
    });
    await waitFor(() => notified > before, 2_000, 'list_changed for a host tool');
    expect((await client.listTools()).tools.map((tool) => tool.name)).toContain('host_tool');
    remove();
    await waitFor(
      async () => !(await client.listTools()).tools.some((t) => t.name === 'host_tool'),
      2_000,
      'removed',
    );
  });

  it("an MCP client's cancellation reaches the upstream tool", async () => {
    const { bridge: b, upstream } = await upstreamBridge();
    const client = await mcpClient(b);
    const controller = new AbortController();
    const call = client.callTool({ name: 'up__slow', arguments: {} }, undefined, {
      signal: controller.signal,
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    controller.abort('stop');
    await expect(call).rejects.toThrow();
    await waitFor(() => upstream.slowAborted, 500, 'the upstream call cancelled');
    const stats = b.listTools().length > 0 && (await b.callTool('get_os_state', { include: ['tools'] }));
    expect(
      (stats as unknown as { tools: { failureBreakdown: Record<string, number> } }).tools.failureBreakdown,
    ).toEqual({
      up__slow: 1,
    });
  });
});
