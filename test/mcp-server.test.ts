/** createMcpServer over the SDK's in-memory transport, with the real bridge (not started). */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { afterEach, describe, expect, it } from 'vitest';
import { createBridge } from '../src/bridge/index.js';
import type { Bridge } from '../src/bridge/types.js';
import { createMcpServer, toCallToolResult } from '../src/mcp/server.js';

let bridge: Bridge;
let client: Client | undefined;

async function connect(): Promise<Client> {
  bridge = createBridge({ logger: { warn: () => {} } });
  const server = createMcpServer(bridge, { version: '1.2.3' });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  client = new Client({ name: 'test', version: '1.0.0' });
  await client.connect(clientSide);
  return client;
}

afterEach(async () => {
  await client?.close();
  client = undefined;
  await bridge?.stop();
});

function parsed(result: unknown): Record<string, unknown> {
  const content = (result as { content: { text: string }[] }).content;
  return JSON.parse(content[0]?.text ?? 'null') as Record<string, unknown>;
}

describe('createMcpServer', () => {
  it('lists every bridge tool with the bridge JSON Schema (not the permissive one it validates with)', async () => {
    const c = await connect();
    expect(c.getServerVersion()).toMatchObject({ name: 'mcp-lifeline', version: '1.2.3' });
    const { tools } = await c.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(
      bridge
        .listTools()
        .map((tool) => tool.name)
        .sort(),
    );
    for (const tool of tools) {
      const descriptor = bridge.listTools().find((d) => d.name === tool.name);
      const { $schema: _a, ...expected } = descriptor?.inputSchema ?? {};
      expect(tool.inputSchema).toMatchObject(expected);
      expect(tool.description).toBe(descriptor?.description);
    }
  });

  it('lists titles and honest annotations of the built-in tools', async () => {
    const c = await connect();
    const { tools } = await c.listTools();
    const byName = new Map(tools.map((tool) => [tool.name, tool]));
    for (const name of ['get_os_state', 'reliability_get_status']) {
      expect(byName.get(name)?.title, name).toEqual(expect.any(String));
      expect(byName.get(name)?.annotations, name).toMatchObject({ readOnlyHint: true, openWorldHint: false });
    }
    for (const name of ['send_llm_prompt', 'trigger_evolution', 'spawn_area_agent', 'send_a2a_message']) {
      expect(byName.get(name)?.title, name).toEqual(expect.any(String));
      expect(byName.get(name)?.annotations, name).toMatchObject({
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: false,
        openWorldHint: true,
      });
    }
  });

  it('answers text + structuredContent, isError false on success', async () => {
    const c = await connect();
    const result = await c.callTool({ name: 'get_os_state', arguments: { include: ['tools'] } });
    expect(result.isError).toBe(false);
    expect(result.structuredContent).toEqual(parsed(result));
    expect(parsed(result)).toMatchObject({ success: true, tools: { registered: 6 } });
  });

  it('bad input reaches the bridge: INVALID_INPUT naming the field, isError true', async () => {
    const c = await connect();
    for (const [name, args, field] of [
      ['send_llm_prompt', { prompt: 1 }, 'prompt'],
      ['send_llm_prompt', { prompt: 'x', temperature: 5 }, 'temperature'],
      ['get_os_state', { include: ['nope'] }, 'include.0'],
      ['spawn_area_agent', { agent_type: 'monitor' }, 'region'],
      ['send_a2a_message', { to_agent: 'a', message_type: 'bogus', content: {} }, 'message_type'],
    ] as const) {
      const result = await c.callTool({ name, arguments: args as Record<string, unknown> });
      expect(result.isError, name).toBe(true);
      expect(parsed(result), name).toMatchObject({ success: false, error_code: 'INVALID_INPUT', field });
    }
  });

  it('an unknown tool is INVALID_INPUT naming the field "name" (not the SDK\'s own error)', async () => {
    const c = await connect();
    const result = await c.callTool({ name: 'no_such_tool', arguments: {} });
    expect(result.isError).toBe(true);
    expect(parsed(result)).toMatchObject({ success: false, error_code: 'INVALID_INPUT', field: 'name' });
    expect((parsed(result) as { error: string }).error).toContain('no_such_tool');
  });

  it('marks the mcp surface up while connected and down once closed', async () => {
    const c = await connect();
    expect(bridge.health().backends.webmcp).toMatchObject({ status: 'pass', state: 'SERVING' });
    await c.close();
    client = undefined;
    expect(bridge.health().backends.webmcp).toMatchObject({ status: 'warn', state: 'NOT_SERVING' });
  });

  it('toCallToolResult mirrors success in isError', () => {
    expect(toCallToolResult({ success: true, a: 1 })).toEqual({
      content: [{ type: 'text', text: '{"success":true,"a":1}' }],
      structuredContent: { success: true, a: 1 },
      isError: false,
    });
    expect(toCallToolResult({ success: false, error: 'e', error_code: 'TIMEOUT' }).isError).toBe(true);
  });
});
