/**
 * Every built-in tool declares an `outputSchema` (issue 14), and every answer it gives — success and
 * each failure form — is structured content that validates against the schema it lists.
 *
 * Real parts: the lab's backends on 127.0.0.1, the bridge, its MCP server over Streamable HTTP, and
 * the official SDK clients of both eras: `@modelcontextprotocol/sdk` v1 (2025-11-25) and
 * `@modelcontextprotocol/client` v2 pinned to 2026-07-28. Both clients validate structured content
 * against the listed schema themselves (v1 even on `isError` results), so a call that resolves is
 * already one proof; each answer is also checked with Ajv's 2020-12 validator (MCP's default dialect).
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createBridge } from '../src/bridge/index.js';
import type { Bridge, ToolResult } from '../src/bridge/types.js';
import { type Lab, startLab } from '../src/lab/index.js';
import { type McpHttpServer, startMcpHttpServer } from '../src/mcp/http.js';
import { type AnyClient, type ClientKind, httpClient } from './support/mcp-clients.js';
import { until } from './support/net.js';

const BUILT_IN = [
  'get_os_state',
  'reliability_get_status',
  'send_llm_prompt',
  'trigger_evolution',
  'spawn_area_agent',
  'send_a2a_message',
];

/** Valid arguments for every built-in tool. */
const ARGS: Record<string, Record<string, unknown>> = {
  get_os_state: {},
  reliability_get_status: {},
  send_llm_prompt: { prompt: 'hi', max_tokens: 8 },
  trigger_evolution: { seed_shader: 'void main() {}', generations: 1 },
  spawn_area_agent: { agent_type: 'monitor', region: { x: 0, y: 0, width: 1, height: 1 } },
  send_a2a_message: { to_agent: 'broadcast', message_type: 'status_update', content: { ok: true } },
};

/** One bad argument per tool that takes any (the field the answer names). */
const BAD_ARGS: [string, Record<string, unknown>, string][] = [
  ['get_os_state', { include: ['nope'] }, 'include.0'],
  ['send_llm_prompt', { prompt: 'hi', temperature: 5 }, 'temperature'],
  ['trigger_evolution', { seed_shader: '' }, 'seed_shader'],
  ['spawn_area_agent', { agent_type: 'monitor' }, 'region'],
  ['send_a2a_message', { to_agent: 'a', message_type: 'gossip', content: {} }, 'message_type'],
];

const ERAS: [ClientKind, string][] = [
  ['v1', '2025-11-25'],
  ['v2 pinned 2026-07-28', '2026-07-28'],
];

const fast = { retry: { maxRetries: 1, baseDelayMs: 20, maxDelayMs: 50 }, breaker: { resetTimeoutMs: 500 } };

let lab: Lab;
let bridge: Bridge;
let server: McpHttpServer;

beforeAll(async () => {
  lab = await startLab({ wsPort: 0, httpPort: 0, controlPort: 0 });
  bridge = createBridge({
    logger: { warn: () => {}, info: () => {}, error: () => {}, debug: () => {} },
    healthSettleMs: 0,
    backends: {
      evolution: { url: lab.urls.evolution, options: fast },
      agents: { url: lab.urls.agents, options: fast },
      a2a: { url: lab.urls.a2a, options: fast },
      lmStudio: { url: lab.urls.lmStudio, options: { ...fast, probeIntervalMs: 200 } },
    },
  });
  await bridge.start();
  server = await startMcpHttpServer(bridge, { host: '127.0.0.1', port: 0 });
}, 30_000);

afterAll(async () => {
  await server?.close();
  await bridge?.stop();
  await lab?.stop();
});

/** Every lab backend up and without faults, and the bridge connected to each. */
async function healthyLab(): Promise<void> {
  lab.clear();
  await until(
    () =>
      Object.values(bridge.health().backends).every(
        (line) => line.kind === 'webmcp' || line.status === 'pass',
      ),
    10_000,
    'every backend to pass',
  );
}

/** A backend's line leaves `pass` (its socket closed, its probe failed). */
async function notPassing(name: string): Promise<void> {
  await until(() => bridge.health().backends[name]?.status !== 'pass', 10_000, `${name} to stop passing`);
}

const ajv = new Ajv2020({ strict: false, allErrors: true });

/** Asserts `value` matches `schema` with Ajv (2020-12), naming what failed. */
function expectValid(schema: unknown, value: unknown, what: string): void {
  const validate = ajv.compile(schema as object);
  expect(validate(value), `${what}: ${ajv.errorsText(validate.errors)} in ${JSON.stringify(value)}`).toBe(
    true,
  );
}

describe.each(ERAS)('%s client (%s)', (kind) => {
  let client: AnyClient;
  let schemas: Map<string, Record<string, unknown>>;

  beforeAll(async () => {
    client = await httpClient(kind, new URL(server.url));
    const { tools } = await client.listTools();
    schemas = new Map(tools.map((tool) => [tool.name, tool.outputSchema as Record<string, unknown>]));
  });
  afterAll(async () => {
    await client?.close();
  });
  beforeEach(healthyLab, 15_000);

  /** Calls through the client (which validates against the listed schema) and checks with Ajv too. */
  async function call(name: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
    const result = await client.callTool({ name, arguments: args });
    const structured = result.structuredContent as Record<string, unknown>;
    expect(structured, `${name} answered structured content`).toBeTypeOf('object');
    expect(result.isError ?? false, `${name}: isError mirrors success`).toBe(structured.success !== true);
    expectValid(schemas.get(name), structured, name);
    return structured;
  }

  it('lists an outputSchema for every built-in tool: an object schema, the same as the descriptor', () => {
    for (const name of BUILT_IN) {
      const schema = schemas.get(name);
      expect(schema, `${name} lists an outputSchema`).toBeDefined();
      expect(schema?.type, name).toBe('object');
      expect(schema, name).toEqual(bridge.listTools().find((tool) => tool.name === name)?.outputSchema);
    }
  });

  it('every built-in tool succeeds with an answer that matches its schema', async () => {
    for (const name of BUILT_IN) {
      expect(await call(name, ARGS[name] as Record<string, unknown>), name).toMatchObject({ success: true });
    }
    for (const include of [['bridge'], ['tools'], ['health'], ['retries'], ['breakers'], ['all']]) {
      expect(await call('get_os_state', { include })).toMatchObject({ success: true });
    }
  }, 30_000);

  it('bad arguments: INVALID_INPUT naming the field, matching the schema', async () => {
    for (const [name, args, field] of BAD_ARGS) {
      expect(await call(name, args), name).toMatchObject({
        success: false,
        error_code: 'INVALID_INPUT',
        field,
      });
    }
  });

  it('a daemon that answers success: false: EXECUTION_FAILED, matching the schema', async () => {
    lab.fault('evolution', { errorRate: 1 });
    lab.fault('agents', { errorRate: 1 });
    for (const name of ['trigger_evolution', 'spawn_area_agent']) {
      expect(await call(name, ARGS[name] as Record<string, unknown>), name).toMatchObject({
        success: false,
        error_code: 'EXECUTION_FAILED',
      });
    }
  });

  it('a backend that is down: BACKEND_UNAVAILABLE or CIRCUIT_OPEN, matching the schema', async () => {
    for (const name of ['evolution', 'agents'] as const) lab.fault(name, 'down');
    await notPassing('evolution');
    await notPassing('agents');
    for (const name of ['trigger_evolution', 'spawn_area_agent']) {
      const answer = await call(name, ARGS[name] as Record<string, unknown>);
      expect(answer, name).toMatchObject({ success: false });
      expect(['BACKEND_UNAVAILABLE', 'CIRCUIT_OPEN'], name).toContain(answer.error_code);
    }
  });

  it('an LLM failing with 500s: BACKEND_UNAVAILABLE, then CIRCUIT_OPEN with retry_after_ms, matching the schema', async () => {
    lab.fault('lmStudio', { errorRate: 1 });
    const codes = new Set<unknown>();
    let open: Record<string, unknown> | undefined;
    for (let i = 0; i < 20 && !open; i++) {
      const answer = await call('send_llm_prompt', ARGS.send_llm_prompt as Record<string, unknown>);
      expect(answer.success).toBe(false);
      codes.add(answer.error_code);
      if (answer.error_code === 'CIRCUIT_OPEN') open = answer;
    }
    expect(codes).toContain('BACKEND_UNAVAILABLE');
    expect(open).toMatchObject({ retry_after_ms: expect.any(Number) });
  }, 30_000);

  it('the A2A router unreachable: the queued answer matches the schema', async () => {
    lab.fault('a2a', 'down');
    await notPassing('a2a');
    expect(await call('send_a2a_message', ARGS.send_a2a_message as Record<string, unknown>)).toMatchObject({
      success: true,
      queued: true,
      queue_length: expect.any(Number),
    });
    expect(await call('reliability_get_status', {})).toMatchObject({
      success: true,
      a2a: { pending: expect.any(Number) },
    });
  });

  it('a cancelled call (CANCELLED) of every tool matches its schema', async () => {
    const controller = new AbortController();
    controller.abort(new Error('gone'));
    for (const name of BUILT_IN) {
      const answer = await bridge.callTool(name, ARGS[name], { signal: controller.signal });
      expect(answer, name).toMatchObject({ success: false, error_code: 'CANCELLED' });
      expectValid(schemas.get(name), answer, name);
    }
  });

  it('arguments that are not an object: INVALID_INPUT, matching the schema of a tool without arguments', async () => {
    const answer: ToolResult = await bridge.callTool('reliability_get_status', 'status please');
    expect(answer).toMatchObject({ success: false, error_code: 'INVALID_INPUT', field: '(arguments)' });
    expectValid(schemas.get('reliability_get_status'), answer, 'reliability_get_status');
  });

  it('the schemas are closed: a field a tool does not declare is refused', async () => {
    for (const name of BUILT_IN) {
      const answer = await call(name, ARGS[name] as Record<string, unknown>);
      const validate = ajv.compile(schemas.get(name) as object);
      expect(validate({ ...answer, undeclared: 1 }), name).toBe(false);
      expect(validate({ ...answer, success: false }), `${name}: a success without error fields`).toBe(false);
    }
    const failure = { success: false, error: 'x', error_code: 'TIMEOUT' };
    const validate = ajv.compile(schemas.get('get_os_state') as object);
    expect(validate(failure)).toBe(true);
    expect(validate({ ...failure, error_code: 'NOT_A_CODE' })).toBe(false);
    expect(validate({ ...failure, undeclared: 1 })).toBe(false);
  }, 30_000);
});

describe('host tools (bridge.registerTool)', () => {
  it('list an outputSchema made of their fields and the failure form, when they declare one', async () => {
    const host = createBridge({ surface: false, logger: { warn: () => {} } });
    try {
      host.registerTool({
        name: 'host_sum',
        description: 'Adds',
        inputSchema: z.object({ a: z.number(), b: z.number() }),
        outputSchema: z.object({ sum: z.number() }),
        handler: ({ a, b }) => ({ sum: a + b }),
      });
      host.registerTool({
        name: 'host_plain',
        description: 'No schema',
        inputSchema: z.object({}),
        handler: () => ({ anything: true }),
      });
      const schema = host.listTools().find((tool) => tool.name === 'host_sum')?.outputSchema;
      expect(schema).toMatchObject({ type: 'object' });
      expectValid(schema, await host.callTool('host_sum', { a: 1, b: 2 }), 'success');
      expectValid(schema, await host.callTool('host_sum', { a: 'x', b: 2 }), 'INVALID_INPUT');
      expect(ajv.compile(schema as object)({ success: true, sum: 'three' })).toBe(false);
      expect(host.listTools().find((tool) => tool.name === 'host_plain')).not.toHaveProperty('outputSchema');
    } finally {
      await host.stop();
    }
  });

  it('refuse an outputSchema that is not a zod object, or that JSON Schema cannot express', async () => {
    const host = createBridge({ surface: false, logger: { warn: () => {} } });
    try {
      const tool = { description: 'd', inputSchema: z.object({}), handler: () => ({}) };
      expect(() =>
        host.registerTool({ ...tool, name: 'a', outputSchema: { type: 'object' } as never }),
      ).toThrow(/"a"\.outputSchema must be a zod object/);
      expect(() =>
        host.registerTool({ ...tool, name: 'b', outputSchema: z.object({ at: z.date() }) }),
      ).toThrow(/"b"\.outputSchema cannot be listed as JSON Schema/);
      expect(host.listTools().map((t) => t.name)).not.toContain('a');
    } finally {
      await host.stop();
    }
  });
});
