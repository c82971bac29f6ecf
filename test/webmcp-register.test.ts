/**
 * registerWebMcpTools against a recording model context (the real polyfill runs in
 * webmcp-chromium.test.ts) and the real bridge, not started: get_os_state and validation need no backend.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createBridge } from '../src/bridge/index.js';
import type { Bridge } from '../src/bridge/types.js';
import { type ModelContextLike, registerWebMcpTools, type WebMcpTool } from '../src/webmcp/register.js';

function recordingContext() {
  const tools = new Map<string, WebMcpTool>();
  const context: ModelContextLike = {
    async registerTool(tool, options) {
      if (tools.has(tool.name)) throw new Error(`duplicate ${tool.name}`);
      tools.set(tool.name, tool);
      options?.signal?.addEventListener('abort', () => tools.delete(tool.name), { once: true });
    },
  };
  return { context, tools };
}

let bridge: Bridge;
afterEach(async () => {
  await bridge?.stop();
  const g = globalThis as { document?: unknown; navigator?: unknown };
  delete g.document;
});

describe('registerWebMcpTools', () => {
  it('registers every bridge tool with its JSON Schema; execute goes through bridge.callTool', async () => {
    bridge = createBridge({ logger: { warn: () => {} } });
    const { context, tools } = recordingContext();
    const registration = registerWebMcpTools(bridge, context);
    await registration.ready;
    expect([...tools.keys()].sort()).toEqual(
      bridge
        .listTools()
        .map((tool) => tool.name)
        .sort(),
    );
    expect(registration.tools).toHaveLength(6);
    expect(tools.get('send_llm_prompt')?.inputSchema).toEqual(
      bridge.listTools().find((tool) => tool.name === 'send_llm_prompt')?.inputSchema,
    );
    const state = (await tools.get('get_os_state')?.execute({ include: ['tools'] })) as Record<
      string,
      unknown
    >;
    expect(state).toMatchObject({ success: true, tools: { registered: 6 } });
    // The polyfill does not validate: the bridge does, and names the field.
    expect(await tools.get('send_llm_prompt')?.execute({ prompt: 3 })).toMatchObject({
      success: false,
      error_code: 'INVALID_INPUT',
      field: 'prompt',
    });
  });

  it('marks the webmcp surface up once registered, and stop() unregisters and marks it down', async () => {
    bridge = createBridge({ logger: { warn: () => {} } });
    const { context, tools } = recordingContext();
    expect(bridge.health().backends.webmcp?.state).toBe('NOT_SERVING');
    const registration = registerWebMcpTools(bridge, context);
    await registration.ready;
    expect(bridge.health().backends.webmcp).toMatchObject({ status: 'pass', state: 'SERVING' });
    registration.stop();
    registration.stop();
    expect(tools.size).toBe(0);
    expect(bridge.health().backends.webmcp).toMatchObject({ status: 'warn', state: 'NOT_SERVING' });
  });

  it('uses document.modelContext, falling back to navigator.modelContext', async () => {
    bridge = createBridge({ logger: { warn: () => {} } });
    const g = globalThis as { document?: unknown };
    const fromDocument = recordingContext();
    g.document = { modelContext: fromDocument.context };
    await registerWebMcpTools(bridge).ready;
    expect(fromDocument.tools.size).toBe(6);
    delete g.document;
    const fromNavigator = recordingContext();
    const original = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
    Object.defineProperty(globalThis, 'navigator', {
      value: { modelContext: fromNavigator.context },
      configurable: true,
    });
    try {
      const other = createBridge({ logger: { warn: () => {} } });
      await registerWebMcpTools(other).ready;
      expect(fromNavigator.tools.size).toBe(6);
      await other.stop();
    } finally {
      if (original) Object.defineProperty(globalThis, 'navigator', original);
      else delete (globalThis as { navigator?: unknown }).navigator;
    }
  });

  it('throws without a model context, and rejects ready (unregistering) when a registration fails', async () => {
    bridge = createBridge({ logger: { warn: () => {} } });
    expect(() => registerWebMcpTools(bridge, undefined)).toThrow(/no model context/);
    const { context, tools } = recordingContext();
    const failing: ModelContextLike = {
      registerTool(tool, options) {
        if (tool.name === 'send_llm_prompt') return Promise.reject(new Error('refused'));
        return context.registerTool(tool, options);
      },
    };
    const registration = registerWebMcpTools(bridge, failing);
    await expect(registration.ready).rejects.toThrow('refused');
    expect(tools.size).toBe(0);
    expect(bridge.health().backends.webmcp?.state).toBe('NOT_SERVING');
  });

  it('follows bridge.onToolsChanged: tools added later are registered, removed ones unregistered', async () => {
    bridge = createBridge({ logger: { warn: () => {} } });
    const { context, tools } = recordingContext();
    const registration = registerWebMcpTools(bridge, context);
    await registration.ready;
    const removeLater = bridge.registerTool({
      name: 'later_tool',
      description: 'Added after the page registered.',
      inputSchema: z.object({ n: z.number() }),
      handler: ({ n }) => ({ doubled: n * 2 }),
    });
    await registration.settled();
    expect(tools.has('later_tool')).toBe(true);
    expect(registration.tools).toContain('later_tool');
    expect(await tools.get('later_tool')?.execute({ n: 2 })).toMatchObject({ success: true, doubled: 4 });
    removeLater();
    await registration.settled();
    expect(tools.has('later_tool')).toBe(false);
    expect(registration.tools).not.toContain('later_tool');
    registration.stop();
    expect(tools.size).toBe(0);
    // After stop, changes register nothing.
    bridge.registerTool({
      name: 'after_stop',
      description: 'x',
      inputSchema: z.object({}),
      handler: () => ({}),
    });
    await registration.settled();
    expect(tools.size).toBe(0);
  });

  it('has no runtime import: nothing Node-only can enter a page bundle through it', () => {
    const source = readFileSync(new URL('../src/webmcp/register.ts', import.meta.url), 'utf8');
    const imports = source.match(/^import .*$/gm) ?? [];
    expect(imports.every((line) => line.startsWith('import type '))).toBe(true);
  });
});
