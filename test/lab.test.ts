import http from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createHttpBackend } from '../src/backends/http.js';
import { NodeWebSocket } from '../src/backends/node-websocket.js';
import { createSocketBackend } from '../src/backends/socket.js';
import { type Lab, parseFaultCommand, startLab } from '../src/lab/index.js';
import { parseLabArgs, runLab } from '../src/lab/main.js';

let lab: Lab;
const clients = new Set<WebSocket>();

beforeEach(async () => {
  lab = await startLab({ wsPort: 0, httpPort: 0 });
});

afterEach(async () => {
  for (const ws of clients) ws.terminate();
  clients.clear();
  await lab.stop();
});

type Json = Record<string, unknown>;

function connect(url: string, options: WebSocket.ClientOptions = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    clients.add(ws);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) =>
      reject(
        Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode, headers: res.headers }),
      ),
    );
  });
}

/** Resolves with the next frame, or null after `timeoutMs`. */
function nextFrame(ws: WebSocket, timeoutMs = 1000): Promise<Json | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      ws.off('message', onMessage);
      resolve(null);
    }, timeoutMs);
    const onMessage = (data: WebSocket.RawData) => {
      clearTimeout(timer);
      resolve(JSON.parse(String(data)) as Json);
    };
    ws.once('message', onMessage);
  });
}

async function roundTrip(ws: WebSocket, message: unknown, timeoutMs = 1000): Promise<Json | null> {
  const reply = nextFrame(ws, timeoutMs);
  ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  return reply;
}

function closed(ws: WebSocket): Promise<number> {
  if (ws.readyState === ws.CLOSED) return Promise.resolve(ws.readyState);
  return new Promise((resolve) => ws.once('close', (code) => resolve(code)));
}

function pongWithin(ws: WebSocket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      ws.off('pong', onPong);
      resolve(false);
    }, ms);
    const onPong = () => {
      clearTimeout(timer);
      resolve(true);
    };
    ws.once('pong', onPong);
    ws.ping();
  });
}

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function request(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: options.method ?? 'GET', headers: options.headers, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const evolveRequest = (requestId: string) => ({
  requestId,
  action: 'evolve',
  seed_shader: 'void main() { gl_FragColor = vec4(1.0); }',
  generations: 12,
  fitness_metric: 'visual_quality',
  mutation_rate: 0.2,
  population_size: 30,
});

const envelope = (overrides: Json = {}): Json => ({
  $schema: 'https://geometry.os/a2a/message/v1',
  message_id: crypto.randomUUID(),
  timestamp: Date.now() / 1000,
  from_agent: 'bridge-test',
  to_agent: 'broadcast',
  message_type: 'coordination_request',
  priority: 5,
  content: { topic: 'test' },
  metadata: {},
  ...overrides,
});

describe('wire formats', () => {
  it('evolution: evolve round trip, deterministic, invalid requests answered success:false', async () => {
    const ws = await connect(lab.urls.evolution);
    const a = await roundTrip(ws, evolveRequest('evo_1'));
    const b = await roundTrip(ws, evolveRequest('evo_2'));
    expect(a).toMatchObject({ requestId: 'evo_1', success: true, generationsCompleted: 12 });
    expect(typeof a?.bestFitness).toBe('number');
    expect(a?.evolvedShader).toContain('void main()');
    expect(a?.cartridgeId).toMatch(/^cart_[0-9a-f]{16}$/);
    expect({ ...b, requestId: 'evo_1' }).toEqual(a);

    const bad = await roundTrip(ws, { ...evolveRequest('evo_3'), generations: 500 });
    expect(bad).toMatchObject({ requestId: 'evo_3', success: false });
    expect(String(bad?.error)).toContain('generations');
    const unknown = await roundTrip(ws, { requestId: 'evo_4', action: 'mutate' });
    expect(unknown).toMatchObject({ requestId: 'evo_4', success: false });
    expect(lab.stats().ws.evolution).toMatchObject({ connections: 1, messages: 4, invalid: 2, replies: 4 });
  });

  it('agents: spawn round trip and validation', async () => {
    const ws = await connect(lab.urls.agents);
    const reply = await roundTrip(ws, {
      requestId: 'agent_1',
      action: 'spawn',
      agent_type: 'monitor',
      region: { x: 0, y: 0, width: 100, height: 50 },
      auto_start: true,
    });
    expect(reply).toEqual({
      requestId: 'agent_1',
      success: true,
      agentId: 'agent_monitor_1',
      status: 'spawned',
      heartbeatInterval: 5000,
    });
    const bad = await roundTrip(ws, {
      requestId: 'agent_2',
      action: 'spawn',
      agent_type: 'wizard',
      region: {},
    });
    expect(bad).toMatchObject({ requestId: 'agent_2', success: false });
    expect(String(bad?.error)).toContain('agent_type');
  });

  it('a2a: replies correlated by in_reply_to/correlation_id, fire-and-forget types unanswered, all recorded in order', async () => {
    const ws = await connect(lab.urls.a2a);
    const request = envelope();
    const reply = await roundTrip(ws, request);
    expect(reply).toMatchObject({
      message_type: 'coordination_response',
      from_agent: 'lab-a2a-router',
      to_agent: 'bridge-test',
      metadata: { in_reply_to: request.message_id, correlation_id: request.message_id },
    });
    expect(typeof reply?.message_id).toBe('string');

    const register = envelope({
      message_type: 'registry_query',
      content: { query: 'register_agent', agent_id: 'bridge-test', capabilities: ['llm'] },
    });
    expect(await roundTrip(ws, register)).toMatchObject({
      message_type: 'registry_response',
      content: { registered: true, agent_id: 'bridge-test' },
      metadata: { in_reply_to: register.message_id },
    });
    const task = envelope({ message_type: 'task_assignment', content: { task: 'x' } });
    expect(await roundTrip(ws, task)).toMatchObject({
      message_type: 'task_result',
      metadata: { in_reply_to: task.message_id },
    });

    const heartbeat = envelope({ message_type: 'heartbeat', content: { status: 'alive' } });
    const status = envelope({ message_type: 'status_update', content: { ok: true } });
    expect(await roundTrip(ws, heartbeat, 100)).toBeNull();
    expect(await roundTrip(ws, status, 100)).toBeNull();

    const received = await lab.a2a.waitForCount(5);
    expect(received.map((m) => m.message_id)).toEqual(
      [request, register, task, heartbeat, status].map((m) => m.message_id),
    );
    expect(lab.a2a.count()).toBe(5);
    expect(lab.stats().a2a.received).toBe(5);
  });

  it('a2a: invalid envelopes are rejected with a correlated error_report, never recorded, never a crash', async () => {
    const ws = await connect(lab.urls.a2a);
    const missing = envelope();
    delete missing.from_agent;
    const report = await roundTrip(ws, missing);
    expect(report).toMatchObject({
      message_type: 'error_report',
      content: { success: false, code: 'INVALID_ENVELOPE' },
      metadata: { in_reply_to: missing.message_id },
    });
    expect(String((report?.content as Json | undefined)?.error)).toContain('from_agent');
    for (const bad of [
      envelope({ message_type: 'gossip' }),
      envelope({ content: 'not an object' }),
      envelope({ timestamp: 'yesterday' }),
      { message_id: 7 },
    ]) {
      expect(await roundTrip(ws, bad)).toMatchObject({ message_type: 'error_report' });
    }
    expect(lab.a2a.count()).toBe(0);
    expect(lab.stats().ws.a2a.invalid).toBe(5);
    expect(await roundTrip(ws, envelope())).toMatchObject({ message_type: 'coordination_response' });
  });

  it('malformed frames are counted and answered with an error frame; the socket keeps working', async () => {
    const ws = await connect(lab.urls.evolution);
    expect(await roundTrip(ws, 'not json {')).toMatchObject({ success: false });
    const binary = nextFrame(ws);
    ws.send(Buffer.from([1, 2, 3]));
    expect(await binary).toMatchObject({ success: false });
    expect(await roundTrip(ws, '[1,2]')).toMatchObject({ success: false });
    const a2a = await connect(lab.urls.a2a);
    expect(await roundTrip(a2a, '}{')).toMatchObject({
      message_type: 'error_report',
      content: { code: 'MALFORMED_FRAME' },
    });
    expect(lab.stats().ws.evolution.malformed).toBe(3);
    expect(lab.stats().ws.a2a.malformed).toBe(1);
    expect(await roundTrip(ws, evolveRequest('evo_ok'))).toMatchObject({ success: true });
  });

  it('lmStudio: GET /v1/models, deterministic chat completion, 400 for bad JSON', async () => {
    const models = await fetch(`${lab.urls.lmStudio}/models`);
    expect(models.status).toBe(200);
    expect(await models.json()).toMatchObject({
      object: 'list',
      data: [{ id: 'lab-model', object: 'model' }],
    });

    const body = JSON.stringify({
      model: 'local',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'hello lab world' },
      ],
      temperature: 0.7,
      max_tokens: 100,
    });
    const post = () =>
      fetch(`${lab.urls.lmStudio}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
    const first = (await (await post()).json()) as Json;
    const second = (await (await post()).json()) as Json;
    expect(first).toMatchObject({
      object: 'chat.completion',
      model: 'local',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'lab echo: hello lab world' },
          finish_reason: 'stop',
        },
      ],
      usage: { prompt_tokens: 5, completion_tokens: 5, total_tokens: 10 },
    });
    expect(second.id).toBe(first.id);
    expect(second.choices).toEqual(first.choices);

    const bad = await fetch(`${lab.urls.lmStudio}/chat/completions`, { method: 'POST', body: '{nope' });
    expect(bad.status).toBe(400);
    const noMessages = await fetch(`${lab.urls.lmStudio}/chat/completions`, { method: 'POST', body: '{}' });
    expect(noMessages.status).toBe(400);
    expect((await fetch(`${lab.urls.lmStudio}/nothing`)).status).toBe(404);
  });
});

describe('faults', () => {
  it('down terminates a path’s sockets and refuses upgrades with 503; other paths keep working; up accepts again on the same port', async () => {
    const ws = await connect(lab.urls.evolution);
    const agents = await connect(lab.urls.agents);
    const wasClosed = closed(ws);
    lab.fault('evolution', 'down');
    await wasClosed;
    await expect(connect(lab.urls.evolution)).rejects.toMatchObject({ status: 503 });
    expect(await pongWithin(agents, 500)).toBe(true);
    expect(lab.stats().ws.evolution).toMatchObject({ connections: 0, refusedUpgrades: 1 });

    lab.fault('evolution', 'up');
    const again = await connect(lab.urls.evolution);
    expect(await roundTrip(again, evolveRequest('evo_back'))).toMatchObject({ success: true });
  });

  it('every WebSocket path down: connections are reset at the TCP level', async () => {
    for (const backend of ['evolution', 'agents', 'a2a'] as const) lab.fault(backend, { down: true });
    const error = await connect(lab.urls.a2a).catch((e: Error & { status?: number }) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as { status?: number }).status).toBeUndefined();
    lab.clear();
    await connect(lab.urls.a2a);
  });

  it('lmStudio down resets connections; up serves again', async () => {
    lab.fault('lmStudio', 'down');
    await expect(fetch(`${lab.urls.lmStudio}/models`)).rejects.toThrow();
    await expect(request(`${lab.urls.lmStudio}/models`)).rejects.toThrow();
    lab.fault('lmStudio', 'up');
    expect((await request(`${lab.urls.lmStudio}/models`)).status).toBe(200);
    expect(lab.stats().lmStudio.resets).toBeGreaterThanOrEqual(2);
  });

  it('latency delays WebSocket replies and HTTP responses', async () => {
    lab.fault('agents', { latencyMs: 150 });
    lab.fault('lmStudio', { latencyMs: 150 });
    const ws = await connect(lab.urls.agents);
    let start = performance.now();
    const reply = await roundTrip(ws, {
      requestId: 'slow',
      action: 'spawn',
      agent_type: 'executor',
      region: { x: 1, y: 2, width: 3, height: 4 },
    });
    expect(reply).toMatchObject({ success: true });
    expect(performance.now() - start).toBeGreaterThanOrEqual(140);
    start = performance.now();
    expect((await request(`${lab.urls.lmStudio}/models`)).status).toBe(200);
    expect(performance.now() - start).toBeGreaterThanOrEqual(140);
  });

  it('errorRate 1 fails every request; a fractional rate is reproducible', async () => {
    lab.fault('evolution', { errorRate: 1 });
    const ws = await connect(lab.urls.evolution);
    for (let i = 0; i < 5; i++) {
      expect(await roundTrip(ws, evolveRequest(`evo_${i}`))).toMatchObject({
        requestId: `evo_${i}`,
        success: false,
        error: expect.stringContaining('injected'),
      });
    }
    expect(lab.stats().ws.evolution.injectedErrors).toBe(5);

    const outcomes = async () => {
      lab.fault('evolution', { errorRate: 0.5 });
      const result: boolean[] = [];
      for (let i = 0; i < 12; i++)
        result.push((await roundTrip(ws, evolveRequest(`r${i}`)))?.success === true);
      return result;
    };
    const first = await outcomes();
    expect(await outcomes()).toEqual(first);
    expect(first).toContain(true);
    expect(first).toContain(false);

    lab.fault('lmStudio', { errorRate: 1 });
    expect((await request(`${lab.urls.lmStudio}/models`)).status).toBe(500);
    lab.fault('a2a', { errorRate: 1 });
    const a2a = await connect(lab.urls.a2a);
    const message = envelope();
    expect(await roundTrip(a2a, message)).toMatchObject({
      message_type: 'error_report',
      content: { code: 'INJECTED_FAILURE' },
      metadata: { in_reply_to: message.message_id },
    });
    expect(lab.a2a.count()).toBe(0);
  });

  it('silent stops pongs and replies without closing; unsilent answers again', async () => {
    const ws = await connect(lab.urls.evolution);
    expect(await pongWithin(ws, 500)).toBe(true);
    lab.fault('evolution', 'silent');
    expect(await pongWithin(ws, 200)).toBe(false);
    expect(await roundTrip(ws, evolveRequest('evo_silent'), 200)).toBeNull();
    expect(ws.readyState).toBe(ws.OPEN);
    expect(lab.stats().ws.evolution.dropped).toBe(1);
    lab.fault('evolution', 'unsilent');
    expect(await pongWithin(ws, 500)).toBe(true);
    expect(await roundTrip(ws, evolveRequest('evo_loud'))).toMatchObject({ success: true });
  });

  it('status503 answers HTTP 503 with Retry-After, and refuses WebSocket upgrades the same way', async () => {
    lab.fault('lmStudio', { status503: { retryAfterSeconds: 7 } });
    const res = await request(`${lab.urls.lmStudio}/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('7');
    lab.fault('agents', { status503: { retryAfterSeconds: 3 } });
    await expect(connect(lab.urls.agents)).rejects.toMatchObject({
      status: 503,
      headers: { 'retry-after': '3' },
    });
    lab.fault('lmStudio', { status503: null });
    expect((await request(`${lab.urls.lmStudio}/models`)).status).toBe(200);
  });

  it('parses textual fault commands', () => {
    expect(parseFaultCommand('latency 250')).toEqual({ latencyMs: 250 });
    expect(parseFaultCommand('errorRate 0.3')).toEqual({ errorRate: 0.3 });
    expect(parseFaultCommand('status503 30')).toEqual({ status503: { retryAfterSeconds: 30 } });
    expect(parseFaultCommand('down')).toEqual({ down: true });
    expect(() => parseFaultCommand('errorRate 2')).toThrow(/errorRate/);
    expect(() => parseFaultCommand('explode')).toThrow();
    expect(() => lab.fault('evolution', { latencyMs: -1 })).toThrow(TypeError);
  });
});

describe('control API', () => {
  const auth = () => ({ authorization: `Bearer ${lab.token}` });

  it('requires the bearer token (401 otherwise)', async () => {
    expect((await request(`${lab.urls.control}/faults`)).status).toBe(401);
    const wrong = await request(`${lab.urls.control}/faults`, {
      headers: { authorization: 'Bearer nope-nope-nope' },
    });
    expect(wrong.status).toBe(401);
    const noBody = await request(`${lab.urls.control}/faults/evolution`, {
      method: 'POST',
      body: '{"down":true}',
    });
    expect(noBody.status).toBe(401);
    expect(lab.faults().evolution.down).toBe(false);
    expect(lab.stats().control.unauthorized).toBe(3);
  });

  it('refuses a foreign Origin or Host with 403, even with the token', async () => {
    const origin = await request(`${lab.urls.control}/faults`, {
      headers: { ...auth(), origin: 'https://evil.example' },
    });
    expect(origin.status).toBe(403);
    const host = await request(`${lab.urls.control}/faults`, {
      headers: { ...auth(), host: 'evil.example' },
    });
    expect(host.status).toBe(403);
    const wsOrigin = connect(lab.urls.evolution, { origin: 'http://evil.example' });
    await expect(wsOrigin).rejects.toMatchObject({ status: 403 });
    const lmHost = await request(`${lab.urls.lmStudio}/models`, {
      headers: { host: 'rebound.example:1234' },
    });
    expect(lmHost.status).toBe(403);
  });

  it('sets, reads and resets faults; CORS for local origins', async () => {
    const set = await request(`${lab.urls.control}/faults/evolution`, {
      method: 'POST',
      headers: { ...auth(), 'content-type': 'application/json', origin: 'http://localhost:5173' },
      body: JSON.stringify({ down: true, latencyMs: 20, status503: { retryAfterSeconds: 5 } }),
    });
    expect(set.status).toBe(200);
    expect(set.headers['access-control-allow-origin']).toBe('http://localhost:5173');
    expect(JSON.parse(set.body)).toMatchObject({
      backend: 'evolution',
      fault: { down: true, latencyMs: 20 },
    });
    expect(lab.faults().evolution).toMatchObject({ down: true, status503: { retryAfterSeconds: 5 } });

    const all = JSON.parse((await request(`${lab.urls.control}/faults`, { headers: auth() })).body);
    expect(all.evolution.down).toBe(true);
    expect(all.lmStudio.down).toBe(false);

    const bad = await request(`${lab.urls.control}/faults/evolution`, {
      method: 'POST',
      headers: auth(),
      body: JSON.stringify({ errorRate: 3 }),
    });
    expect(bad.status).toBe(400);
    expect(
      (await request(`${lab.urls.control}/faults/nowhere`, { method: 'POST', headers: auth(), body: '{}' }))
        .status,
    ).toBe(404);

    expect((await request(`${lab.urls.control}/reset`, { method: 'POST', headers: auth() })).status).toBe(
      200,
    );
    expect(lab.faults().evolution).toEqual({
      down: false,
      latencyMs: 0,
      errorRate: 0,
      silent: false,
      status503: null,
    });

    const preflight = await request(`${lab.urls.control}/faults/a2a`, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://127.0.0.1:5173',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('http://127.0.0.1:5173');
    expect(preflight.headers['access-control-allow-headers']).toContain('Authorization');
  });
});

describe('runLab', () => {
  it('prints the URLs and token and stops cleanly when aborted', async () => {
    let output = '';
    const controller = new AbortController();
    let ready: Lab | undefined;
    const code = runLab(['--ws-port', '0', '--http-port=0', '--token', 'test-token-123'], {
      stdout: (text) => {
        output += text;
      },
      stderr: () => {},
      handleSignals: false,
      signal: controller.signal,
      onReady: (l) => {
        ready = l;
        controller.abort();
      },
    });
    expect(await code).toBe(0);
    expect(ready?.token).toBe('test-token-123');
    expect(output).toContain('test-token-123');
    expect(output).toContain(ready?.urls.evolution);
    expect(output).toContain(ready?.urls.control);
    expect(output).toContain('stopped');
  });

  it('rejects bad arguments with exit code 2', async () => {
    let errors = '';
    expect(await runLab(['--ws-port', 'abc'], { stderr: (t) => (errors += t), handleSignals: false })).toBe(
      2,
    );
    expect(errors).toContain('--ws-port');
    expect(parseLabArgs(['--help'])).toBe('help');
    expect(() => parseLabArgs(['--token', 'short'])).toThrow(/token/);
  });
});

describe('the project’s own backends against the lab', () => {
  it('socket backend requests evolve; http backend posts a chat completion', async () => {
    const quiet = { warn: () => {}, info: () => {} };
    const socket = createSocketBackend({
      name: 'evolution',
      url: lab.urls.evolution,
      WebSocket: NodeWebSocket,
      logger: quiet,
    });
    const llm = createHttpBackend({ name: 'lmStudio', baseUrl: lab.urls.lmStudio, logger: quiet });
    try {
      socket.start();
      llm.start();
      const reply = await socket.request(evolveRequest('evo_bridge'), { timeoutMs: 2000 });
      expect(reply).toMatchObject({ requestId: 'evo_bridge', success: true });
      const chat = await llm.requestJson<Json>('/chat/completions', {
        json: { model: 'local', messages: [{ role: 'user', content: 'ping' }] },
      });
      expect(chat).toMatchObject({ choices: [{ message: { content: 'lab echo: ping' } }] });
    } finally {
      await socket.stop();
      await llm.stop();
    }
  });
});
