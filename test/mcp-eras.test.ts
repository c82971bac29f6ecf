/**
 * Both protocol eras (issue 14): the official SDK v1 client, the v2 client with its default
 * (`initialize`, 2025-11-25) and the v2 client pinned to 2026-07-28 (`server/discover`), each over
 * stdio (spawning `serve`) and Streamable HTTP (`serve --http 127.0.0.1:0`), list every tool and
 * call every built-in tool against the lab.
 */
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { type Lab, startLab } from '../src/lab/index.js';
import { labEnv, writeFastConfig } from './e2e/helpers.js';
import { type AnyClient, CLIENT_KINDS, itOverStdioAndHttp } from './support/mcp-clients.js';

/** Valid arguments for every built-in tool. */
const TOOL_ARGS: Record<string, Record<string, unknown>> = {
  get_os_state: {},
  reliability_get_status: {},
  send_llm_prompt: { prompt: 'hi', max_tokens: 8 },
  trigger_evolution: { seed_shader: 'void main() {}', generations: 1 },
  spawn_area_agent: { agent_type: 'monitor', region: { x: 0, y: 0, width: 1, height: 1 } },
  send_a2a_message: { to_agent: 'broadcast', message_type: 'status', content: { ok: true } },
};

let lab: Lab;
let config: string;
beforeAll(async () => {
  lab = await startLab({ wsPort: 0, httpPort: 0, controlPort: 0 });
  config = writeFastConfig();
});
afterAll(async () => {
  await lab?.stop();
});

async function listAndCallEveryTool(client: AnyClient): Promise<void> {
  const { tools } = await client.listTools();
  expect(tools.map((tool) => tool.name).sort()).toEqual(Object.keys(TOOL_ARGS).sort());
  for (const [name, args] of Object.entries(TOOL_ARGS)) {
    const result = await client.callTool({ name, arguments: args });
    const structured = result.structuredContent as { success?: boolean } | undefined;
    expect(typeof structured?.success, `${name} answered structured content`).toBe('boolean');
    expect(result.isError ?? false, `${name}: ${JSON.stringify(result.structuredContent)}`).toBe(
      !structured?.success,
    );
  }
  const state = await client.callTool({ name: 'get_os_state', arguments: { include: ['health'] } });
  expect(state.structuredContent).toMatchObject({ success: true });
}

describe.each(CLIENT_KINDS)('%s client', (kind) => {
  itOverStdioAndHttp(
    kind,
    'lists and calls every tool',
    () => ({ args: ['--config', config], env: labEnv(lab) }),
    listAndCallEveryTool,
  );
});
