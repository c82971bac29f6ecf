import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { SocketBackend } from '../src/backends/socket.js';
import { createNodeBridge } from '../src/bridge/node.js';
import type { Bridge, BridgeConfig } from '../src/bridge/types.js';
import { createManualClock } from '../src/clock.js';
import {
  type LlmLab,
  labConfig,
  type SocketLab,
  startLlmLab,
  startSocketLab,
  until,
} from './bridge-fixtures.js';

/** Fast reconnects; the breaker opens after two failed connects and stays open for a minute. */
const fastSocket = {
  options: {
    retry: { maxRetries: 1, baseDelayMs: 10, maxDelayMs: 20 },
    breaker: { resetTimeoutMs: 60_000 },
    heartbeat: false as const,
  },
};
const fastHttp = {
  options: {
    retry: { baseDelayMs: 1, maxDelayMs: 5 },
    breaker: { failureThreshold: 3, resetTimeoutMs: 60_000 },
  },
};

let sockets: SocketLab;
let llm: LlmLab;
let bridge: Bridge;

function makeBridge(extra: BridgeConfig = {}): Bridge {
  bridge = createNodeBridge(
    labConfig(sockets, llm, {
      ...extra,
      backends: {
        evolution: fastSocket,
        agents: fastSocket,
        a2a: { options: { ...fastSocket.options, breaker: { resetTimeoutMs: 60_000 } } },
        lmStudio: fastHttp,
        ...(extra.backends ?? {}),
      },
    }),
  );
  return bridge;
}

async function startConnected(): Promise<void> {
  await bridge.start();
  await until(
    () =>
      ['evolution', 'agents', 'a2a'].every((name) => bridge.health().backends[name]?.state === 'CONNECTED'),
    5_000,
    'sockets connected',
  );
}

/** A tool result to read deep fields from in assertions. */
type Loose = { [key: string]: Loose };
const loose = (result: unknown) => result as Loose;

const socketOf = (name: string) => bridge.backend(name) as SocketBackend;

beforeEach(async () => {
  sockets = await startSocketLab();
  llm = await startLlmLab();
});

afterEach(async () => {
  await bridge?.stop();
  await sockets.kill();
  await llm.close();
});

describe('happy paths against local servers', () => {
  it('lists the six tools with JSON Schema', () => {
    makeBridge();
    const tools = bridge.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual([
      'get_os_state',
      'reliability_get_status',
      'send_a2a_message',
      'send_llm_prompt',
      'spawn_area_agent',
      'trigger_evolution',
    ]);
    const llmTool = tools.find((tool) => tool.name === 'send_llm_prompt');
    expect(llmTool?.inputSchema).toMatchObject({
      type: 'object',
      required: ['prompt'],
      properties: { temperature: { minimum: 0, maximum: 2, default: 0.7 } },
    });
  });

  it('send_llm_prompt posts /chat/completions and returns the answer, model, tokens and latency', async () => {
    makeBridge();
    await bridge.start();
    const result = await bridge.callTool('send_llm_prompt', { prompt: 'hello', system_prompt: 'be brief' });
    expect(result).toMatchObject({
      success: true,
      response: 'echo: hello',
      model: 'local',
      tokensUsed: { prompt: 3, completion: 2, total: 5 },
    });
    expect(typeof (result as Record<string, unknown>).latencyMs).toBe('number');
    const post = llm.requests.find((request) => request.method === 'POST');
    expect(post?.url).toBe('/v1/chat/completions');
    expect(post?.body).toEqual({
      model: 'local',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'hello' },
      ],
      temperature: 0.7,
      max_tokens: 2048,
    });
  });

  it('trigger_evolution sends an evo_ request and returns the reply fields', async () => {
    makeBridge();
    await startConnected();
    const result = await bridge.callTool('trigger_evolution', {
      seed_shader: 'void main(){}',
      generations: 5,
    });
    expect(result).toEqual({
      success: true,
      bestFitness: 0.93,
      generationsCompleted: 5,
      evolvedShader: 'void main(){}// evolved',
      cartridgeId: 'cart_1',
    });
    const sent = sockets.received['/evolution']?.[0];
    expect(sent).toMatchObject({
      action: 'evolve',
      seed_shader: 'void main(){}',
      generations: 5,
      fitness_metric: 'performance',
      mutation_rate: 0.1,
      population_size: 20,
    });
    expect(String(sent?.requestId)).toMatch(/^evo_\d+_[0-9a-z]+$/);
  });

  it('trigger_evolution: a reply with success false is EXECUTION_FAILED', async () => {
    makeBridge();
    await startConnected();
    sockets.failEvolution = 'fitness diverged';
    const result = await bridge.callTool('trigger_evolution', { seed_shader: 'x' });
    expect(result).toEqual({ success: false, error: 'fitness diverged', error_code: 'EXECUTION_FAILED' });
  });

  it('spawn_area_agent sends an agent_ request; status and heartbeat default', async () => {
    makeBridge();
    await startConnected();
    const region = { x: 0, y: 0, width: 100, height: 50 };
    const result = await bridge.callTool('spawn_area_agent', { agent_type: 'monitor', region });
    expect(result).toEqual({
      success: true,
      agentId: 'agent-7',
      status: 'spawned',
      region,
      heartbeatInterval: 5000,
    });
    expect(String(sockets.received['/agents']?.[0]?.requestId)).toMatch(/^agent_\d+_[0-9a-z]+$/);
  });

  it('send_a2a_message writes an A2A envelope', async () => {
    makeBridge();
    await startConnected();
    const result = await bridge.callTool('send_a2a_message', {
      to_agent: 'broadcast',
      message_type: 'status_update',
      content: { ok: true },
      expires_in: 30,
      metadata: { correlation_id: 'c-1' },
    });
    expect(result).toMatchObject({ success: true, queued: false });
    await until(() => (sockets.received['/a2a']?.length ?? 0) === 1, 2_000, 'a2a frame');
    const envelope = sockets.received['/a2a']?.[0] as Record<string, unknown>;
    expect(envelope).toMatchObject({
      $schema: 'https://geometry.os/a2a/message/v1',
      message_id: (result as Record<string, unknown>).message_id,
      from_agent: 'mcp-lifeline',
      to_agent: 'broadcast',
      message_type: 'status_update',
      priority: 5,
      content: { ok: true },
      metadata: { correlation_id: 'c-1' },
    });
    expect(String(envelope.message_id)).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(envelope.expires_at as number).toBeCloseTo((envelope.timestamp as number) + 30, 5);
  });

  it('get_os_state counts calls per tool and returns every section', async () => {
    makeBridge();
    await bridge.start();
    await bridge.callTool('send_llm_prompt', { prompt: 'a' });
    await bridge.callTool('send_llm_prompt', { prompt: 5 });
    await bridge.callTool('reliability_get_status', {});
    const state = loose(await bridge.callTool('get_os_state', {}));
    expect(state.success).toBe(true);
    expect(typeof state.timestamp).toBe('string');
    expect(state.tools).toMatchObject({
      registered: 6,
      totalCalls: 4,
      callBreakdown: { send_llm_prompt: 2, reliability_get_status: 1, get_os_state: 1 },
      failureBreakdown: { send_llm_prompt: 1 },
    });
    expect(Object.keys(state.health?.backends ?? {}).sort()).toEqual([
      'a2a',
      'agents',
      'evolution',
      'lmStudio',
      'webmcp',
    ]);
    expect(state.bridge).toMatchObject({ state: 'running', healthCheckIntervalMs: 10_000 });
    expect(state.retries).toMatchObject({ operations: { sendLLMPrompt: { successes: 1 } } });
    expect(state.breakers?.lmStudio).toMatchObject({ name: 'lmStudio', state: 'CLOSED' });
    const only = (await bridge.callTool('get_os_state', { include: ['health'] })) as Record<string, unknown>;
    expect(Object.keys(only).sort()).toEqual(['health', 'success', 'timestamp']);
  });

  it('registerTool: a host tool is validated, counted and protected by its backend', async () => {
    makeBridge();
    await startConnected();
    const unregister = bridge.registerTool({
      name: 'echo_evolution',
      description: 'request through the evolution socket',
      inputSchema: z.object({ action: z.string().min(1) }),
      backend: 'evolution',
      operation: 'fetch',
      handler: async (args, ctx) => {
        const reply = await ctx.run(() =>
          (ctx.backend as SocketBackend).request({ action: args.action, seed_shader: 's' }),
        );
        return { reply };
      },
    });
    expect(() =>
      bridge.registerTool({
        name: 'echo_evolution',
        description: '',
        inputSchema: z.object({}),
        handler: () => ({}),
      }),
    ).toThrow(/already exists/);
    expect(bridge.listTools().some((tool) => tool.name === 'echo_evolution')).toBe(true);
    expect(await bridge.callTool('echo_evolution', { action: 'x' })).toMatchObject({
      success: true,
      reply: { success: true },
    });
    expect(await bridge.callTool('echo_evolution', {})).toMatchObject({
      error_code: 'INVALID_INPUT',
      field: 'action',
    });
    unregister();
    expect(await bridge.callTool('echo_evolution', { action: 'x' })).toMatchObject({
      error_code: 'INVALID_INPUT',
      field: 'name',
    });
  });
});

describe('bad input', () => {
  const cases: [tool: string, args: unknown, field: string][] = [
    ['get_os_state', { include: 'all' }, 'include'],
    ['get_os_state', { include: ['everything'] }, 'include.0'],
    ['send_llm_prompt', {}, 'prompt'],
    ['send_llm_prompt', { prompt: 42 }, 'prompt'],
    ['send_llm_prompt', { prompt: '' }, 'prompt'],
    ['send_llm_prompt', { prompt: 'x', temperature: 2.5 }, 'temperature'],
    ['send_llm_prompt', { prompt: 'x', temperature: 'hot' }, 'temperature'],
    ['send_llm_prompt', { prompt: 'x', max_tokens: 0 }, 'max_tokens'],
    ['send_llm_prompt', { prompt: 'x', max_tokens: 1.5 }, 'max_tokens'],
    ['trigger_evolution', {}, 'seed_shader'],
    ['trigger_evolution', { seed_shader: 1 }, 'seed_shader'],
    ['trigger_evolution', { seed_shader: 's', generations: 0 }, 'generations'],
    ['trigger_evolution', { seed_shader: 's', generations: 101 }, 'generations'],
    ['trigger_evolution', { seed_shader: 's', mutation_rate: 0.9 }, 'mutation_rate'],
    ['trigger_evolution', { seed_shader: 's', fitness_metric: 'speed' }, 'fitness_metric'],
    ['spawn_area_agent', {}, 'agent_type'],
    ['spawn_area_agent', { agent_type: 'pilot', region: { x: 0, y: 0, width: 1, height: 1 } }, 'agent_type'],
    ['spawn_area_agent', { agent_type: 'monitor' }, 'region'],
    [
      'spawn_area_agent',
      { agent_type: 'monitor', region: { x: 0, y: 0, width: -1, height: 1 } },
      'region.width',
    ],
    [
      'spawn_area_agent',
      { agent_type: 'monitor', region: { x: '0', y: 0, width: 1, height: 1 } },
      'region.x',
    ],
    ['send_a2a_message', {}, 'to_agent'],
    ['send_a2a_message', { to_agent: 'a', message_type: 'gossip', content: {} }, 'message_type'],
    ['send_a2a_message', { to_agent: 'a', message_type: 'heartbeat', content: 'hi' }, 'content'],
    ['send_a2a_message', { to_agent: 'a', message_type: 'heartbeat', content: {}, priority: 11 }, 'priority'],
    [
      'send_a2a_message',
      { to_agent: 'a', message_type: 'heartbeat', content: {}, expires_in: -1 },
      'expires_in',
    ],
    ['reliability_get_status', 'status please', '(arguments)'],
  ];

  it.each(cases)('%s %j → INVALID_INPUT naming %s', async (tool, args, field) => {
    makeBridge();
    const result = await bridge.callTool(tool, args);
    expect(result).toMatchObject({ success: false, error_code: 'INVALID_INPUT', field });
    expect((result as { error: string }).error).toContain(field);
    expect(llm.requests).toEqual([]);
  });

  it('an unknown tool is INVALID_INPUT naming the field "name"', async () => {
    makeBridge();
    const result = await bridge.callTool('launch_rockets', {});
    expect(result).toMatchObject({ success: false, error_code: 'INVALID_INPUT', field: 'name' });
    expect((result as { error: string }).error).toContain('launch_rockets');
  });

  it('an oversized prompt is INVALID_INPUT naming prompt, without calling the LLM', async () => {
    makeBridge({ maxPromptChars: 1_000 });
    await bridge.start();
    const result = await bridge.callTool('send_llm_prompt', { prompt: 'x'.repeat(1_001) });
    expect(result).toMatchObject({ success: false, error_code: 'INVALID_INPUT', field: 'prompt' });
    expect(llm.requests.filter((request) => request.method === 'POST')).toEqual([]);
    const ok = await bridge.callTool('send_llm_prompt', { prompt: 'x'.repeat(1_000) });
    expect(ok.success).toBe(true);
  });

  it('the default prompt limit is 100 000 characters', async () => {
    makeBridge();
    const result = await bridge.callTool('send_llm_prompt', { prompt: 'x'.repeat(100_001) });
    expect(result).toMatchObject({ error_code: 'INVALID_INPUT', field: 'prompt' });
  });
});

describe('failures', () => {
  it('A2A: accepted while the router is down, delivered after it comes back', async () => {
    // A manual clock holds the reconnect backoff until the router is back: on real timers the
    // failed reconnects could trip the breaker (open for a minute) before the restart.
    const clock = createManualClock(Date.now());
    makeBridge({ clock });
    await startConnected();
    await sockets.kill();
    await until(() => socketOf('a2a').state !== 'CONNECTED', 2_000, 'a2a down');
    const result = await bridge.callTool('send_a2a_message', {
      to_agent: 'agent-2',
      message_type: 'task_assignment',
      content: { task: 'build' },
      priority: 8,
    });
    expect(result).toMatchObject({ success: true, queued: true, queue_length: 1 });
    const before = loose(await bridge.callTool('reliability_get_status', {}));
    expect(before.a2a).toMatchObject({ pending: 1, delivered: 0, failed: 0 });
    expect(before.queues?.a2a).toBe(1);

    await sockets.restart();
    for (let i = 0; i < 20 && socketOf('a2a').state !== 'CONNECTED'; i++) {
      await clock.next(); // the pending reconnects (and any other timer due first)
      await until(() => socketOf('a2a').state !== 'CONNECTING', 2_000, 'connect attempt settled');
    }
    await until(() => (sockets.received['/a2a']?.length ?? 0) === 1, 5_000, 'queued a2a delivered');
    expect(sockets.received['/a2a']?.[0]).toMatchObject({
      message_id: (result as Record<string, unknown>).message_id,
      content: { task: 'build' },
      priority: 8,
    });
    await until(() => socketOf('a2a').queueLength === 0, 2_000, 'queue drained');
    const after = loose(await bridge.callTool('reliability_get_status', {}));
    expect(after.a2a).toMatchObject({ pending: 0, delivered: 1, failed: 0, undelivered: [] });
  });

  it('A2A: a queued message that can no longer be delivered is reported in reliability_get_status', async () => {
    makeBridge();
    await startConnected();
    await sockets.kill();
    await until(() => socketOf('a2a').state !== 'CONNECTED', 2_000, 'a2a down');
    const result = await bridge.callTool('send_a2a_message', {
      to_agent: 'agent-2',
      message_type: 'task_update',
      content: {},
    });
    expect(result).toMatchObject({ queued: true });
    await bridge.stop();
    const status = loose(await bridge.callTool('reliability_get_status', {}));
    expect(status.a2a).toMatchObject({ pending: 0, delivered: 0, failed: 1 });
    expect(status.a2a?.undelivered?.[0]).toMatchObject({
      message_id: (result as Record<string, unknown>).message_id,
      to_agent: 'agent-2',
      error: expect.stringContaining('stopped'),
    });
  });

  it('A2A: a full queue answers QUEUE_FULL', async () => {
    makeBridge({ backends: { a2a: { options: { ...fastSocket.options, queueLimit: 1 } } } });
    await startConnected();
    await sockets.kill();
    await until(() => socketOf('a2a').state !== 'CONNECTED', 2_000, 'a2a down');
    const args = { to_agent: 'x', message_type: 'heartbeat', content: {} };
    expect(await bridge.callTool('send_a2a_message', args)).toMatchObject({ queued: true });
    expect(await bridge.callTool('send_a2a_message', args)).toMatchObject({
      success: false,
      error_code: 'QUEUE_FULL',
    });
  });

  it('socket down: BACKEND_UNAVAILABLE, then CIRCUIT_OPEN fast once the breaker trips, without touching it', async () => {
    // A manual clock holds the reconnect backoff still, so the call below lands while the socket is
    // down and its breaker still CLOSED (on real timers the breaker may trip before the call).
    const clock = createManualClock(Date.now());
    makeBridge({ clock });
    await startConnected();
    await sockets.kill();
    await until(() => socketOf('evolution').state === 'RECONNECTING', 2_000, 'evolution reconnecting');
    expect(bridge.health().backends.evolution?.breaker).toBe('CLOSED');
    expect(await bridge.callTool('trigger_evolution', { seed_shader: 's' })).toMatchObject({
      success: false,
      error_code: 'BACKEND_UNAVAILABLE',
    });
    for (let i = 0; i < 20 && bridge.health().backends.evolution?.breaker !== 'OPEN'; i++) {
      await clock.next(); // the next reconnect attempt, refused by the closed port
      await until(() => socketOf('evolution').state !== 'CONNECTING', 2_000, 'connect attempt settled');
    }
    expect(bridge.health().backends.evolution?.breaker).toBe('OPEN');
    const attempts = socketOf('evolution').stats().connectAttempts;
    const startedAt = performance.now();
    const result = await bridge.callTool('trigger_evolution', { seed_shader: 's' });
    expect(performance.now() - startedAt).toBeLessThan(50);
    expect(result).toMatchObject({ success: false, error_code: 'CIRCUIT_OPEN' });
    expect((result as { error: string }).error).toContain('evolution');
    expect(socketOf('evolution').stats()).toMatchObject({ connectAttempts: attempts, queueLength: 0 });
    expect(sockets.received['/evolution']).toEqual([]);
  });

  it('http 503: BACKEND_UNAVAILABLE after retries, then CIRCUIT_OPEN without a request', async () => {
    makeBridge({
      backends: {
        lmStudio: {
          options: { ...fastHttp.options, breaker: { failureThreshold: 5, resetTimeoutMs: 60_000 } },
        },
      },
    });
    await bridge.start();
    await until(() => bridge.health().backends.lmStudio?.state === 'UP', 2_000, 'lmStudio up');
    llm.mode = 'error';
    const first = await bridge.callTool('send_llm_prompt', { prompt: 'x' });
    expect(first).toMatchObject({ success: false, error_code: 'BACKEND_UNAVAILABLE' });
    expect((first as { error: string }).error).toContain('503');
    for (let i = 0; i < 5 && bridge.health().backends.lmStudio?.breaker !== 'OPEN'; i++) {
      await bridge.callTool('send_llm_prompt', { prompt: 'x' });
    }
    expect(bridge.health().backends.lmStudio?.breaker).toBe('OPEN');
    const count = llm.requests.length;
    const startedAt = performance.now();
    const second = await bridge.callTool('send_llm_prompt', { prompt: 'x' });
    expect(performance.now() - startedAt).toBeLessThan(50);
    expect(second).toMatchObject({ success: false, error_code: 'CIRCUIT_OPEN' });
    expect(llm.requests.length).toBe(count);
    expect(bridge.health()).toMatchObject({ status: 'fail', backends: { lmStudio: { status: 'fail' } } });
    const retries = loose(await bridge.callTool('get_os_state', { include: ['retries'] }));
    expect(retries.retries?.operations?.sendLLMPrompt?.failures).toBeGreaterThanOrEqual(1);
    expect(retries.retries?.totalRetries).toBeGreaterThanOrEqual(2);
  });

  it('http down (connection refused) is BACKEND_UNAVAILABLE', async () => {
    await llm.close();
    makeBridge();
    const result = await bridge.callTool('send_llm_prompt', { prompt: 'x' });
    expect(result).toMatchObject({ success: false, error_code: 'BACKEND_UNAVAILABLE' });
    llm = await startLlmLab();
  });

  it('a request with no reply in time is TIMEOUT', async () => {
    makeBridge();
    await startConnected();
    bridge.registerTool({
      name: 'quick_evolve',
      description: 'evolution with a short timeout',
      inputSchema: z.object({}),
      backend: 'evolution',
      handler: async (_args, ctx) => ({
        reply: await ctx.run(() =>
          (ctx.backend as SocketBackend).request({ action: 'evolve' }, { timeoutMs: 50 }),
        ),
      }),
    });
    sockets.silent = true;
    expect(await bridge.callTool('quick_evolve', {})).toMatchObject({
      success: false,
      error_code: 'TIMEOUT',
    });
  });
});
