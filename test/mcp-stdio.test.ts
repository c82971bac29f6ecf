/**
 * End to end over stdio: the official MCP SDK client spawns `mcp-lifeline serve` (src/cli.ts through
 * tsx) against the lab running in this test process on random ports.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Lab, startLab } from '../src/lab/index.js';
import { labEnv, type StdioServe, serveOverStdio, waitFor, writeFastConfig } from './e2e/helpers.js';

/** A parsed tool result, read deeply in assertions. */
// biome-ignore lint/suspicious/noExplicitAny: JSON results are read field by field in assertions
type Loose = Record<string, any>;

let lab: Lab;
let client: Client;
let serve: StdioServe;

async function call(name: string, args: Record<string, unknown> = {}): Promise<Loose> {
  const result = (await client.callTool({ name, arguments: args })) as Loose;
  const text = result.content?.[0]?.text as string;
  const parsed = JSON.parse(text) as Loose;
  // The text and the structured content carry the same result; isError mirrors success.
  expect(result.structuredContent).toEqual(parsed);
  expect(result.isError).toBe(!parsed.success);
  return parsed;
}

async function health(): Promise<Loose> {
  return (await call('get_os_state', { include: ['health'] })).health;
}

beforeAll(async () => {
  lab = await startLab({ wsPort: 0, httpPort: 0, controlPort: 0 });
  serve = await serveOverStdio({ config: writeFastConfig(), name: 'mcp-stdio-test', env: labEnv(lab) });
  client = serve.client;
  await waitFor(
    async () => {
      const report = await health();
      return ['evolution', 'agents', 'a2a', 'lmStudio'].every((n) => report.backends[n]?.status === 'pass');
    },
    10_000,
    'every backend passing',
  );
}, 30_000);

afterAll(async () => {
  await client?.close();
  await lab?.stop();
  if (process.env.DEBUG_E2E) process.stderr.write(serve.stderr());
});

describe('mcp-lifeline serve (stdio)', () => {
  it('lists the six tools with their JSON Schemas', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual([
      'get_os_state',
      'reliability_get_status',
      'send_a2a_message',
      'send_llm_prompt',
      'spawn_area_agent',
      'trigger_evolution',
    ]);
    const llm = tools.find((tool) => tool.name === 'send_llm_prompt');
    expect(llm?.inputSchema).toMatchObject({
      type: 'object',
      properties: { prompt: { type: 'string', minLength: 1 } },
      required: ['prompt'],
    });
    const agent = tools.find((tool) => tool.name === 'spawn_area_agent');
    expect(agent?.inputSchema.properties?.region).toMatchObject({ type: 'object' });
  });

  it('the MCP surface makes the webmcp health line pass', async () => {
    expect((await health()).backends.webmcp).toMatchObject({ status: 'pass', state: 'SERVING' });
  });

  it('calls every tool against the lab', async () => {
    expect(await call('send_llm_prompt', { prompt: 'hello' })).toMatchObject({
      success: true,
      response: expect.any(String),
    });
    expect(await call('trigger_evolution', { seed_shader: 'void main(){}', generations: 2 })).toMatchObject({
      success: true,
      generationsCompleted: 2,
    });
    expect(
      await call('spawn_area_agent', {
        agent_type: 'monitor',
        region: { x: 0, y: 0, width: 10, height: 10 },
      }),
    ).toMatchObject({ success: true, agentId: expect.any(String) });
    const before = lab.a2a.count();
    expect(
      await call('send_a2a_message', {
        to_agent: 'broadcast',
        message_type: 'status_update',
        content: { ok: 1 },
      }),
    ).toMatchObject({ success: true, queued: false });
    await lab.a2a.waitForCount(before + 1, 5_000);
    expect(await call('reliability_get_status')).toMatchObject({
      success: true,
      breakers: expect.anything(),
    });
    const state = await call('get_os_state');
    expect(state).toMatchObject({ success: true, timestamp: expect.anything(), health: { status: 'pass' } });
    expect(state.tools.callBreakdown).toMatchObject({
      send_llm_prompt: 1,
      trigger_evolution: 1,
      spawn_area_agent: 1,
      send_a2a_message: 1,
      reliability_get_status: 1,
    });
  });

  it('bad input reaches the bridge: INVALID_INPUT naming the field', async () => {
    expect(await call('send_llm_prompt', { prompt: 42 })).toMatchObject({
      success: false,
      error_code: 'INVALID_INPUT',
      field: 'prompt',
    });
    expect(await call('send_llm_prompt', {})).toMatchObject({ error_code: 'INVALID_INPUT', field: 'prompt' });
    expect(
      await call('spawn_area_agent', { agent_type: 'monitor', region: { x: 0, y: 0, width: -1, height: 1 } }),
    ).toMatchObject({ error_code: 'INVALID_INPUT', field: 'region.width' });
    expect(await call('trigger_evolution', { seed_shader: 's', generations: 1000 })).toMatchObject({
      error_code: 'INVALID_INPUT',
      field: 'generations',
    });
    const bad = await call('send_llm_prompt', { prompt: 42 });
    expect(bad.error).toContain('prompt');
    expect(await call('send_llm_prompt', { prompt: 'x'.repeat(100_001) })).toMatchObject({
      error_code: 'INVALID_INPUT',
      field: 'prompt',
    });
    expect(await call('no_such_tool', {})).toMatchObject({ error_code: 'INVALID_INPUT', field: 'name' });
  });

  it('backend down: BACKEND_UNAVAILABLE, then CIRCUIT_OPEN in < 50 ms without a request; recovers by itself', async () => {
    lab.fault('lmStudio', 'down');
    const first = await call('send_llm_prompt', { prompt: 'x' });
    expect(first).toMatchObject({ success: false, error_code: 'BACKEND_UNAVAILABLE' });

    // Further calls and the periodic probes trip the breaker.
    await waitFor(
      async () => (await call('send_llm_prompt', { prompt: 'x' })).error_code === 'CIRCUIT_OPEN',
      10_000,
      'CIRCUIT_OPEN',
    );
    const seen = lab.stats().lmStudio;
    const touched = seen.requests + seen.resets;
    const startedAt = performance.now();
    const open = await call('send_llm_prompt', { prompt: 'x' });
    const elapsed = performance.now() - startedAt;
    expect(open).toMatchObject({ success: false, error_code: 'CIRCUIT_OPEN' });
    expect(elapsed).toBeLessThan(50);
    const after = lab.stats().lmStudio;
    expect(after.requests + after.resets).toBe(touched);

    const report = await health();
    expect(report.status).toBe('fail');
    expect(report.backends.lmStudio).toMatchObject({ status: 'fail', breaker: 'OPEN', critical: true });

    // Back up: the timer-driven HALF_OPEN probe closes the breaker with no backend tool call.
    const calls = (await call('get_os_state', { include: ['tools'] })).tools.callBreakdown.send_llm_prompt;
    lab.fault('lmStudio', 'up');
    await waitFor(
      async () => {
        const line = (await health()).backends.lmStudio;
        return line.status === 'pass' && line.breaker === 'CLOSED';
      },
      10_000,
      'lmStudio recovered',
    );
    const state = await call('get_os_state', { include: ['tools', 'health'] });
    expect(state.tools.callBreakdown.send_llm_prompt).toBe(calls);
    expect(state.health.status).toBe('pass');
    expect(await call('send_llm_prompt', { prompt: 'again' })).toMatchObject({ success: true });
  }, 30_000);
});
