/**
 * A backend's malformed reply is the tool's failure, not a malformed answer: each backend tool checks
 * the reply it reads, so what it answers always matches its `outputSchema`. A malformed reply is
 * `EXECUTION_FAILED` naming the field at fault. Real servers on 127.0.0.1 (a `ws` server for the
 * daemons, `node:http` for the OpenAI-compatible API) that answer with wrong types.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { createBridge } from '../src/bridge/index.js';
import type { Bridge } from '../src/bridge/types.js';
import { sendLlmPromptOutput, spawnAreaAgentOutput, triggerEvolutionOutput } from '../src/tools/index.js';
import { until } from './support/net.js';

/** What the servers answer, per path; set by each test. */
const replies: Record<string, Record<string, unknown>> = {};

let wss: WebSocketServer;
let llm: http.Server;
let bridge: Bridge;

beforeAll(async () => {
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  wss.on('connection', (socket, request) => {
    const path = request.url ?? '/';
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as { requestId?: string };
      if (typeof frame.requestId === 'string')
        socket.send(JSON.stringify({ requestId: frame.requestId, ...replies[path] }));
    });
  });
  await once(wss, 'listening');
  llm = http.createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.setHeader('content-type', 'application/json');
      response.end(
        JSON.stringify(request.url === '/v1/models' ? { data: [] } : replies['/v1/chat/completions']),
      );
    });
  });
  llm.listen(0, '127.0.0.1');
  await once(llm, 'listening');
  const ws = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  const socket = { options: { heartbeat: false as const } };
  bridge = createBridge({
    logger: { warn: () => {}, info: () => {}, error: () => {}, debug: () => {} },
    backends: {
      evolution: { url: `${ws}/evolution`, ...socket },
      agents: { url: `${ws}/agents`, ...socket },
      a2a: { enabled: false },
      lmStudio: {
        url: `http://127.0.0.1:${(llm.address() as AddressInfo).port}/v1`,
        options: { retry: { maxRetries: 0 } },
      },
    },
  });
  await bridge.start();
  await until(
    () => ['evolution', 'agents'].every((name) => bridge.health().backends[name]?.state === 'CONNECTED'),
    5_000,
    'sockets connected',
  );
});

afterAll(async () => {
  await bridge?.stop();
  for (const socket of wss?.clients ?? []) socket.terminate();
  await new Promise((resolve) => wss?.close(resolve));
  llm?.closeAllConnections();
  await new Promise((resolve) => llm?.close(resolve));
});

const region = { x: 0, y: 0, width: 1, height: 1 };

describe('a malformed backend reply', () => {
  it.each([
    [
      'trigger_evolution',
      '/evolution',
      { success: true, bestFitness: 'high' },
      { seed_shader: 's' },
      'bestFitness',
    ],
    [
      'trigger_evolution',
      '/evolution',
      { success: true, cartridgeId: 7 },
      { seed_shader: 's' },
      'cartridgeId',
    ],
    [
      'spawn_area_agent',
      '/agents',
      { success: true, agentId: 42 },
      { agent_type: 'monitor', region },
      'agentId',
    ],
    [
      'spawn_area_agent',
      '/agents',
      { success: true, heartbeatInterval: 'often' },
      { agent_type: 'monitor', region },
      'heartbeatInterval',
    ],
    [
      'send_llm_prompt',
      '/v1/chat/completions',
      { choices: [{ message: { content: 'x' } }], usage: { prompt_tokens: 'three' } },
      { prompt: 'hi' },
      'usage.prompt_tokens',
    ],
    ['send_llm_prompt', '/v1/chat/completions', { choices: [] }, { prompt: 'hi' }, 'choices'],
    [
      'send_llm_prompt',
      '/v1/chat/completions',
      { choices: [{ message: { content: null } }] },
      { prompt: 'hi' },
      'choices.0.message.content',
    ],
  ] as const)(
    '%s, %s answering %j to %j: EXECUTION_FAILED naming %s',
    async (tool, path, reply, args, field) => {
      replies[path] = reply;
      const result = await bridge.callTool(tool, args);
      expect(result).toMatchObject({ success: false, error_code: 'EXECUTION_FAILED' });
      expect((result as { error: string }).error).toContain(field);
    },
  );

  it('well-formed replies, with the optional fields left out, give answers that match the schemas', async () => {
    replies['/evolution'] = { success: true };
    replies['/agents'] = { success: true };
    replies['/v1/chat/completions'] = { choices: [{ message: { content: 'x' } }] };
    const evolution = await bridge.callTool('trigger_evolution', { seed_shader: 's' });
    const { success: _a, ...evolved } = evolution as Record<string, unknown>;
    expect(triggerEvolutionOutput.strict().parse(evolved)).toEqual({
      bestFitness: null,
      generationsCompleted: null,
      evolvedShader: null,
      cartridgeId: null,
    });
    const spawned = await bridge.callTool('spawn_area_agent', { agent_type: 'monitor', region });
    const { success: _b, ...agent } = spawned as Record<string, unknown>;
    expect(spawnAreaAgentOutput.strict().parse(agent)).toMatchObject({ agentId: null, status: 'spawned' });
    const answered = await bridge.callTool('send_llm_prompt', { prompt: 'hi' });
    const { success: _c, ...answer } = answered as Record<string, unknown>;
    expect(sendLlmPromptOutput.strict().parse(answer)).toMatchObject({
      response: 'x',
      model: 'local',
      tokensUsed: { prompt: 0, completion: 0, total: 0 },
    });
  });
});
