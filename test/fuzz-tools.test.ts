/*
 * Fuzzing every tool's arguments with fast-check: 10 000 random argument values per tool (any value,
 * any object, and objects shaped like the tool's schema with wrong types and out-of-range values).
 * Each `callTool` must resolve — never throw, never leave an unhandled rejection — with either
 * `{ success: false, error_code: 'INVALID_INPUT', field }` (always, when the schema refuses the
 * arguments) or a result whose `success` is a boolean, serialisable as JSON.
 *
 * Backends point at closed ports on 127.0.0.1, with one connect attempt before their breaker opens,
 * so valid calls fail fast (CIRCUIT_OPEN, BACKEND_UNAVAILABLE, QUEUE_FULL) instead of waiting.
 */
import net from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createNodeBridge } from '../src/bridge/node.js';
import type { Bridge, ErrorCode, ToolDescriptor } from '../src/bridge/types.js';

const RUNS_PER_TOOL = 10_000;
const CODES: ErrorCode[] = [
  'INVALID_INPUT',
  'BACKEND_UNAVAILABLE',
  'CIRCUIT_OPEN',
  'TIMEOUT',
  'QUEUE_FULL',
  'EXECUTION_FAILED',
];

/** A port nobody listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
let bridge: Bridge;

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  const port = await closedPort();
  const socket = {
    retry: { maxRetries: 0, baseDelayMs: 50, maxDelayMs: 200 },
    breaker: { resetTimeoutMs: 60_000 },
    connectTimeoutMs: 500,
  };
  bridge = createNodeBridge({
    logger: { warn: () => {}, error: () => {} },
    backends: {
      evolution: { url: `ws://127.0.0.1:${port}/evolution`, options: socket },
      agents: { url: `ws://127.0.0.1:${port}/agents`, options: socket },
      a2a: { url: `ws://127.0.0.1:${port}/a2a`, options: { ...socket, queueLimit: 50 } },
      lmStudio: {
        url: `http://127.0.0.1:${port}/v1`,
        options: {
          retry: { maxRetries: 0 },
          breaker: { failureThreshold: 1, resetTimeoutMs: 60_000 },
          requestTimeoutMs: 500,
        },
      },
    },
  });
  await bridge.start();
  // Let every socket fail its first connect, so no valid call waits in a queue for one.
  const started = Date.now();
  while (
    Date.now() - started < 5_000 &&
    ['evolution', 'agents', 'a2a'].some((name) => bridge.health().backends[name]?.breaker !== 'OPEN')
  ) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
});

afterAll(async () => {
  await bridge?.stop();
  await new Promise((resolve) => setTimeout(resolve, 50));
  process.off('unhandledRejection', onUnhandled);
});

/** Values that are wrong for most fields: wrong types, out of range, huge, odd strings. */
const hostileValue = fc.oneof(
  fc.anything({ withBigInt: true, withMap: true, withSet: true, withDate: true, withNullPrototype: true }),
  fc.constantFrom(
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    -1,
    0,
    -0,
    0.5,
    1e308,
    Number.MAX_SAFE_INTEGER + 2,
    '',
    ' ',
    '__proto__',
    'constructor',
    '\u0000',
    '\ud800',
    null,
    undefined,
    [],
    {},
    true,
  ),
  fc.double(),
  fc.integer(),
  fc.string({ maxLength: 300 }),
  fc.array(fc.string(), { maxLength: 5 }),
);

/** Objects with the tool's own keys (each optional), mostly holding plausible or hostile values. */
function shaped(descriptor: ToolDescriptor): fc.Arbitrary<Record<string, unknown>> {
  const keys = Object.keys(descriptor.schema.shape);
  const plausible: Record<string, fc.Arbitrary<unknown>> = {
    prompt: fc.string({ minLength: 0, maxLength: 50 }),
    model: fc.string({ maxLength: 10 }),
    temperature: fc.double({ min: -1, max: 3 }),
    max_tokens: fc.integer({ min: -10, max: 2_000_000 }),
    system_prompt: fc.string({ maxLength: 20 }),
    seed_shader: fc.string({ maxLength: 30 }),
    generations: fc.integer({ min: -5, max: 200 }),
    fitness_metric: fc.constantFrom('performance', 'visual_quality', 'correctness', 'entropy', 'speed'),
    mutation_rate: fc.double({ min: -0.1, max: 0.7 }),
    population_size: fc.integer({ min: -1, max: 2000 }),
    agent_type: fc.constantFrom('monitor', 'executor', 'evolver', 'analyzer', 'root'),
    region: fc.record(
      { x: fc.double(), y: fc.double(), width: fc.double({ min: -5, max: 5 }), height: hostileValue },
      { requiredKeys: [] },
    ),
    config: fc.dictionary(fc.string(), hostileValue, { maxKeys: 4 }),
    auto_start: fc.oneof(fc.boolean(), hostileValue),
    to_agent: fc.string({ maxLength: 12 }),
    message_type: fc.constantFrom('heartbeat', 'task_update', 'bogus'),
    content: fc.dictionary(fc.string(), hostileValue, { maxKeys: 4 }),
    priority: fc.integer({ min: -3, max: 15 }),
    expires_in: fc.double({ min: -10, max: 1e6 }),
    metadata: fc.oneof(fc.record({ correlation_id: hostileValue }, { requiredKeys: [] }), hostileValue),
    include: fc.array(fc.constantFrom('bridge', 'tools', 'health', 'retries', 'breakers', 'all', 'nope'), {
      maxLength: 7,
    }),
  };
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const key of keys)
    model[key] = fc.oneof({ weight: 3, arbitrary: plausible[key] ?? hostileValue }, hostileValue);
  const extra = fc.dictionary(fc.string({ maxLength: 8 }), hostileValue, { maxKeys: 2 });
  return fc
    .tuple(fc.record(model, { requiredKeys: [] }), extra, fc.boolean())
    .map(([known, more, withExtra]) => (withExtra ? { ...more, ...known } : known));
}

describe('every tool survives 10 000 random argument values', () => {
  const names = [
    'get_os_state',
    'send_llm_prompt',
    'trigger_evolution',
    'spawn_area_agent',
    'send_a2a_message',
    'reliability_get_status',
  ];
  const stats: Record<string, Record<string, number>> = {};

  for (const name of names) {
    test(name, async () => {
      const descriptor = bridge.listTools().find((tool) => tool.name === name) as ToolDescriptor;
      expect(descriptor).toBeDefined();
      const counts: Record<string, number> = {};
      stats[name] = counts;
      const check = async (args: unknown) => {
        const expectedInvalid = !descriptor.schema.safeParse(args ?? {}).success;
        let result: Awaited<ReturnType<Bridge['callTool']>>;
        try {
          result = await bridge.callTool(name, args);
        } catch (error) {
          throw new Error(`callTool threw: ${String(error)}`);
        }
        if (typeof result !== 'object' || result === null) throw new Error('result is not an object');
        if (typeof result.success !== 'boolean') throw new Error('result.success is not a boolean');
        const key = result.success ? 'success' : result.error_code;
        counts[key] = (counts[key] ?? 0) + 1;
        if (!result.success) {
          if (typeof result.error !== 'string') throw new Error('error is not a string');
          if (!CODES.includes(result.error_code)) throw new Error(`unknown error_code ${result.error_code}`);
        }
        if (expectedInvalid) {
          if (result.success || result.error_code !== 'INVALID_INPUT')
            throw new Error(`schema refuses the arguments but the result is ${JSON.stringify(result)}`);
          if (typeof result.field !== 'string') throw new Error('INVALID_INPUT names no field');
        } else if (!result.success && result.error_code === 'INVALID_INPUT') {
          throw new Error(`schema accepts the arguments but the result is ${JSON.stringify(result)}`);
        }
        JSON.stringify(result);
      };
      const anything = fc.anything({
        withBigInt: true,
        withMap: true,
        withSet: true,
        withDate: true,
        withNullPrototype: true,
        withTypedArray: true,
        withSparseArray: true,
        withBoxedValues: true,
        withObjectString: true,
      });
      await fc.assert(fc.asyncProperty(anything, check), { numRuns: 3_000, seed: 1 });
      await fc.assert(fc.asyncProperty(fc.object({ maxDepth: 3 }), check), { numRuns: 3_000, seed: 2 });
      await fc.assert(fc.asyncProperty(shaped(descriptor), check), {
        numRuns: RUNS_PER_TOOL - 6_000,
        seed: 3,
      });
      expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(RUNS_PER_TOOL);
    }, 60_000);
  }

  test('no unhandled rejection, and the bridge still answers', async () => {
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(unhandled).toEqual([]);
    expect(await bridge.callTool('get_os_state', { include: ['tools'] })).toMatchObject({ success: true });
    // Each schema-shaped run reached the handler at least sometimes (not only INVALID_INPUT).
    for (const name of names) {
      const counts = stats[name] ?? {};
      const total = Object.values(counts).reduce((a, b) => a + b, 0);
      expect(total).toBe(RUNS_PER_TOOL);
      expect(total - (counts.INVALID_INPUT ?? 0), `${name}: ${JSON.stringify(counts)}`).toBeGreaterThan(0);
    }
  });
});
