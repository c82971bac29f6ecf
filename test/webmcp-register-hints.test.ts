/**
 * registerWebMcpTools passes each tool's title and annotations, and the caller's abort signal, on to
 * the model context and to `bridge.callTool` (a recording model context here; real Chromium, native
 * and polyfill, in webmcp-chromium.test.ts).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createBridge } from '../src/bridge/index.js';
import type { Bridge, CallToolOptions, ToolDescriptor } from '../src/bridge/types.js';
import {
  type ModelContextLike,
  registerWebMcpTools,
  toWebMcpTool,
  type WebMcpTool,
} from '../src/webmcp/register.js';

function recordingContext() {
  const tools = new Map<string, WebMcpTool>();
  const context: ModelContextLike = {
    async registerTool(tool) {
      tools.set(tool.name, tool);
    },
  };
  return { context, tools };
}

let bridge: Bridge;
afterEach(async () => {
  await bridge?.stop();
});

describe('registerWebMcpTools: titles, annotations and cancellation', () => {
  it("passes the descriptors' titles, marks get_os_state and reliability_get_status read-only and leaves the others unmarked", async () => {
    bridge = createBridge({ logger: { warn: () => {} } });
    const { context, tools } = recordingContext();
    await registerWebMcpTools(bridge, context).ready;
    for (const name of ['get_os_state', 'reliability_get_status']) {
      expect(tools.get(name)?.annotations).toEqual({ readOnlyHint: true });
      expect(tools.get(name)?.title).toBe(bridge.listTools().find((tool) => tool.name === name)?.title);
      expect(tools.get(name)?.title).toBeTruthy();
    }
    for (const name of ['send_llm_prompt', 'trigger_evolution', 'spawn_area_agent', 'send_a2a_message']) {
      expect(tools.get(name)?.annotations?.readOnlyHint).not.toBe(true);
    }
  });

  it("a descriptor's title and annotations pass, reduced to WebMCP's hints", () => {
    bridge = createBridge({ logger: { warn: () => {} } });
    const base = bridge.listTools().find((tool) => tool.name === 'get_os_state') as ToolDescriptor;
    const tool = toWebMcpTool(bridge, {
      ...base,
      title: 'OS state',
      annotations: { readOnlyHint: false, openWorldHint: true, untrustedContentHint: true },
    });
    expect(tool.title).toBe('OS state');
    expect(tool.annotations).toEqual({ readOnlyHint: false, untrustedContentHint: true });
    const { title: _title, ...untitled } = base;
    const bare = toWebMcpTool(bridge, {
      ...untitled,
      name: 'host_tool',
      annotations: { openWorldHint: true },
    });
    expect(bare.annotations).toBeUndefined();
    expect('title' in bare).toBe(false);
  });

  it("execute(input, { signal }) hands the caller's signal to bridge.callTool", async () => {
    bridge = createBridge({ logger: { warn: () => {} } });
    const seen: (CallToolOptions | undefined)[] = [];
    const original = bridge.callTool.bind(bridge);
    vi.spyOn(bridge, 'callTool').mockImplementation((name, args, options) => {
      seen.push(options);
      return original(name, args, options);
    });
    const { context, tools } = recordingContext();
    await registerWebMcpTools(bridge, context).ready;
    const controller = new AbortController();
    const result = await tools
      .get('get_os_state')
      ?.execute({ include: ['tools'] }, { signal: controller.signal });
    expect(result).toMatchObject({ success: true });
    expect(seen[0]?.signal).toBe(controller.signal);
    // The polyfill passes no second argument: no signal, and the call still runs.
    await tools.get('get_os_state')?.execute({ include: ['tools'] });
    expect(seen[1]?.signal).toBeUndefined();
  });
});
