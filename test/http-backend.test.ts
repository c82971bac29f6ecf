/*
 * The HTTP backend against a real node:http server on 127.0.0.1. The HTTP I/O is real; every wait of
 * the backend (retry backoff, per-request timeout, probe interval, breaker reset) runs on a manual
 * clock, which the tests advance only once the request has really reached the server (or the retry has
 * really been planned): no test sleeps on the wall clock for a backoff.
 */
import { describe, expect, test, vi } from 'vitest';
import {
  createHttpBackend,
  type HttpBackend,
  type HttpBackendOptions,
  HttpBackendStoppedError,
  HttpNetworkError,
  HttpStatusError,
  HttpTimeoutError,
} from '../src/backends/http-index.js';
import { createManualClock, type ManualClock } from '../src/clock.js';
import { BrokenCircuitError } from '../src/reliability/errors.js';
import type { RetryInfo } from '../src/reliability/retry.js';
import { cleanups, json, startServer, type TestServer } from './support/http-server.js';

const SECRET = 'sk-very-secret-token';

/** A backend on `server`, with a manual clock, a counting fetch and a queue of planned retries. */
function backendFor(
  server: TestServer,
  clock: ManualClock,
  overrides: Partial<HttpBackendOptions> = {},
): {
  backend: HttpBackend;
  fetchCalls: () => number;
  nextRetry: () => Promise<RetryInfo>;
  retries: RetryInfo[];
} {
  let calls = 0;
  const retries: RetryInfo[] = [];
  let seen = 0;
  const waiting: ((info: RetryInfo) => void)[] = [];
  const backend = createHttpBackend({
    name: 'lmStudio',
    baseUrl: `http://127.0.0.1:${server.port}/v1`,
    headers: { authorization: `Bearer ${SECRET}` },
    clock,
    random: () => 0.5,
    probeIntervalMs: 1_000,
    probeTimeoutMs: 500,
    requestTimeoutMs: 1_000,
    fetch: (url, init) => {
      calls++;
      return globalThis.fetch(url, init);
    },
    ...overrides,
    retry: {
      ...overrides.retry,
      onRetry: (info) => {
        retries.push(info);
        waiting.shift()?.(info);
      },
    },
  });
  cleanups.push(() => backend.stop());
  return {
    backend,
    fetchCalls: () => calls,
    retries,
    nextRetry: () => {
      const index = seen++;
      const ready = retries[index];
      return ready ? Promise.resolve(ready) : new Promise((resolve) => waiting.push(resolve));
    },
  };
}

/** Starts at a whole second so that HTTP dates (second resolution) convert exactly. */
const clockAtWholeSecond = () => createManualClock(Date.UTC(2030, 0, 1, 12, 0, 0));

describe('request: failures are retried through the breaker', () => {
  test('503 with Retry-After in seconds, then 200: retried after the advertised delay', async () => {
    const clock = clockAtWholeSecond();
    const server = await startServer((_req, res, hit) => {
      if (hit === 1) json(res, 503, { error: 'loading model' }, { 'retry-after': '2' });
      else json(res, 200, { choices: [{ message: { content: 'hi' } }] });
    });
    const { backend, fetchCalls, nextRetry } = backendFor(server, clock);

    const reply = backend.requestJson<{ choices: { message: { content: string } }[] }>('/chat/completions', {
      json: { model: 'local', messages: [{ role: 'user', content: 'hello' }] },
      operation: 'sendLLMPrompt',
    });
    const retry = await nextRetry();
    expect(retry.operation).toBe('sendLLMPrompt');
    expect(retry.error).toBeInstanceOf(HttpStatusError);
    expect((retry.error as HttpStatusError).status).toBe(503);
    expect((retry.error as HttpStatusError).retryAfterMs).toBe(2_000);
    expect(retry.delayMs).toBe(2_000); // the policy's own backoff (500 ms) is shorter
    expect(backend.state).toBe('DEGRADED');

    await clock.advance(1_999);
    expect(fetchCalls()).toBe(1);
    await clock.advance(1);
    expect(fetchCalls()).toBe(2);
    expect((await reply).choices[0]?.message.content).toBe('hi');
    expect(server.hits).toBe(2);
    expect(server.requests[1]).toMatchObject({ method: 'POST', url: '/v1/chat/completions' });
    expect(backend.status()).toMatchObject({ status: 'pass', state: 'UP', breaker: 'CLOSED' });
    expect(backend.breaker.metrics()).toMatchObject({ totalFailures: 1, totalSuccesses: 1 });
  });

  test('503 with Retry-After as an HTTP date; a 429 asking longer than maxDelayMs stops retrying and holds the breaker OPEN', async () => {
    const clock = clockAtWholeSecond();
    const server = await startServer((_req, res, hit) => {
      if (hit === 1) json(res, 503, {}, { 'retry-after': new Date(clock.now() + 3_000).toUTCString() });
      else if (hit === 2) json(res, 429, {}, { 'retry-after': '120' });
      else json(res, 200, { ok: true });
    });
    const { backend, fetchCalls, nextRetry } = backendFor(server, clock, { retry: { maxDelayMs: 5_000 } });

    const reply = backend.requestJson('/models');
    const outcome = reply.catch((error: unknown) => error);
    const first = await nextRetry();
    expect(first.delayMs).toBe(3_000);
    await clock.advance(2_999);
    expect(fetchCalls()).toBe(1);
    await clock.advance(1);
    const refused = await outcome;
    expect((refused as HttpStatusError).status).toBe(429);
    expect((refused as HttpStatusError).retryAfterMs).toBe(120_000);
    expect(fetchCalls()).toBe(2);
    expect(backend.breaker.state).toBe('OPEN');
    expect(backend.breaker.retryAfterMs()).toBe(120_000);
    await expect(backend.requestJson('/models')).rejects.toBeInstanceOf(BrokenCircuitError);
    expect(server.hits).toBe(2);
  });

  test('a server that hangs: the per-request timeout fires on the clock, counts as a failure, is retried', async () => {
    const clock = clockAtWholeSecond();
    const server = await startServer((_req, res, hit) => {
      if (hit > 1) json(res, 200, { ok: true });
      // the first request is never answered
    });
    const { backend, nextRetry } = backendFor(server, clock);

    const reply = backend.request('/slow');
    await server.waitForHit(1);
    await clock.advance(999);
    expect(backend.breaker.metrics().totalFailures).toBe(0);
    await clock.advance(1);
    const retry = await nextRetry();
    expect(retry.error).toBeInstanceOf(HttpTimeoutError);
    expect((retry.error as Error).message).toBe('"lmStudio" GET /slow timed out after 1000 ms');
    expect(backend.breaker.metrics().totalFailures).toBe(1);
    await clock.advance(retry.delayMs);
    const response = await reply;
    expect(response).toMatchObject({ status: 200, ok: true, attempts: 2 });
    expect(response.json()).toEqual({ ok: true });
    expect(server.hits).toBe(2);
  });

  test('a connection reset mid-body is a failure and is retried', async () => {
    const clock = clockAtWholeSecond();
    const server = await startServer((_req, res, hit) => {
      if (hit > 1) return json(res, 200, { complete: true });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"choices": [', () => setImmediate(() => res.socket?.destroy()));
    });
    const { backend, nextRetry } = backendFor(server, clock);

    const reply = backend.requestJson('/chat/completions', { json: { prompt: 'x' } });
    const retry = await nextRetry();
    expect(retry.error).toBeInstanceOf(HttpNetworkError);
    expect((retry.error as HttpNetworkError).during).toBe('body');
    expect(backend.breaker.metrics().totalFailures).toBe(1);
    await clock.advance(retry.delayMs);
    await expect(reply).resolves.toEqual({ complete: true });
    expect(server.hits).toBe(2);
  });

  test('400 reaches the caller at once: no retry, and the breaker counts the backend as answering', async () => {
    const clock = clockAtWholeSecond();
    const server = await startServer((_req, res) => json(res, 400, { error: 'bad model' }));
    const { backend, fetchCalls, retries } = backendFor(server, clock);

    const error = (await backend
      .requestJson(`/chat/completions?api_key=${SECRET}`, { json: {} })
      .catch((e: unknown) => e)) as HttpStatusError;
    expect(error).toBeInstanceOf(HttpStatusError);
    expect(error).toMatchObject({ status: 400, transient: false, path: '/chat/completions' });
    expect(error.message).toBe('HTTP 400 Bad Request from "lmStudio" POST /chat/completions');
    expect(error.message).not.toContain(SECRET);
    expect(fetchCalls()).toBe(1);
    expect(retries).toEqual([]);
    expect(backend.breaker.metrics()).toMatchObject({ totalFailures: 0, totalSuccesses: 1, state: 'CLOSED' });
    expect(backend.state).toBe('UP');
    expect(server.requests[0]?.authorization).toBe(`Bearer ${SECRET}`);
  });

  test('5 consecutive failing requests trip the breaker; the next is refused without reaching the server; probes close it', async () => {
    const clock = clockAtWholeSecond();
    let healthy = false;
    const server = await startServer((_req, res) =>
      healthy ? json(res, 200, { data: [] }) : json(res, 500, { error: 'boom' }),
    );
    const { backend, fetchCalls } = backendFor(server, clock, { retry: { maxRetries: 0 } });

    for (let i = 0; i < 5; i++) {
      await expect(backend.request(`/chat/completions?key=${SECRET}`, { method: 'POST' })).rejects.toThrow(
        HttpStatusError,
      );
    }
    expect(backend.breaker.state).toBe('OPEN');
    const refused = await backend.request('/chat/completions').catch((e) => e);
    expect(refused).toBeInstanceOf(BrokenCircuitError);
    expect(server.hits).toBe(5);
    expect(fetchCalls()).toBe(5);
    const health = backend.status();
    expect(health).toMatchObject({
      kind: 'http',
      status: 'fail',
      state: 'DOWN',
      breaker: 'OPEN',
      consecutiveFailures: 5,
      lastError: 'HTTP 500 Internal Server Error from "lmStudio" POST /chat/completions',
    });
    expect(JSON.stringify(health)).not.toContain(SECRET);

    // The breaker reaches HALF_OPEN by itself; with no traffic, probes are its trial calls.
    healthy = true;
    await clock.advance(30_000);
    expect(backend.breaker.state).toBe('HALF_OPEN');
    await backend.probe();
    expect(backend.state).toBe('UP');
    await backend.probe();
    expect(backend.breaker.state).toBe('CLOSED');
    expect(server.requests.at(-1)).toMatchObject({ method: 'GET', url: '/v1/models' });
  });

  test('the caller aborts: rejected at once with its reason, no retry, not a backend failure', async () => {
    const clock = clockAtWholeSecond();
    const server = await startServer(() => {}); // never answers
    const { backend, fetchCalls, retries } = backendFor(server, clock);
    const controller = new AbortController();

    const reply = backend.request('/slow', { signal: controller.signal });
    await server.waitForHit(1);
    const reason = new Error('caller gave up');
    controller.abort(reason);
    await expect(reply).rejects.toBe(reason);
    await vi.waitFor(() => expect(clock.pendingTimers()).toBe(0)); // the timeout timer is cleared
    expect(fetchCalls()).toBe(1);
    expect(retries).toEqual([]);
    expect(backend.breaker.metrics().totalFailures).toBe(0);
    expect(backend.state).toBe('UNKNOWN');

    const already = new AbortController();
    already.abort(new Error('too late'));
    await expect(backend.request('/x', { signal: already.signal })).rejects.toThrow('too late');
    expect(fetchCalls()).toBe(1);
  });

  test('stop() rejects the calls in flight and those made afterwards', async () => {
    const clock = clockAtWholeSecond();
    const server = await startServer(() => {});
    const { backend } = backendFor(server, clock);
    const reply = backend.request('/slow');
    await server.waitForHit(1);
    await backend.stop();
    await expect(reply).rejects.toBeInstanceOf(HttpBackendStoppedError);
    await expect(backend.request('/x')).rejects.toBeInstanceOf(HttpBackendStoppedError);
    expect(backend.status()).toMatchObject({ state: 'STOPPED', status: 'fail' });
    await vi.waitFor(() => expect(clock.pendingTimers()).toBe(0));
  });
});

describe('probe: GET {baseUrl}/models drives availability', () => {
  test('UNKNOWN → UP; server down → DEGRADED → DOWN; back → UP', async () => {
    const clock = clockAtWholeSecond();
    const server = await startServer((req, res) => {
      if (req.url === '/v1/models') json(res, 200, { data: [{ id: 'local' }] });
      else json(res, 404, {});
    });
    const { backend } = backendFor(server, clock);
    const changes: string[] = [];
    backend.subscribe(() => {
      const { state } = backend.status();
      if (changes.at(-1) !== state) changes.push(state);
    });

    expect(backend.status()).toMatchObject({
      status: 'warn',
      state: 'UNKNOWN',
      lastCheckAt: null,
      latencyMs: null,
    });
    backend.start();
    await backend.probe();
    expect(backend.status()).toMatchObject({
      status: 'pass',
      state: 'UP',
      breaker: 'CLOSED',
      lastCheckAt: new Date(clock.now()).toISOString(),
      lastSuccessAt: new Date(clock.now()).toISOString(),
      lastError: null,
      latencyMs: 0, // the manual clock did not move during the exchange
      critical: false,
    });
    expect(server.requests[0]).toEqual({
      method: 'GET',
      url: '/v1/models',
      authorization: `Bearer ${SECRET}`,
    });

    await server.close();
    const upSince = backend.status().lastSuccessAt;
    const states: string[] = [];
    for (let i = 0; i < 3; i++) {
      await clock.advance(1_000);
      await backend.probe(); // the owner's periodic probe (the bridge's health check)
      states.push(backend.state);
    }
    expect(states).toEqual(['DEGRADED', 'DEGRADED', 'DOWN']);
    const down = backend.status();
    expect(down).toMatchObject({ status: 'fail', state: 'DOWN', lastSuccessAt: upSince });
    expect(down.lastError).toMatch(/^"lmStudio" GET \/models: network error/);
    expect(down.lastCheckAt).toBe(new Date(clock.now()).toISOString());

    await server.restart();
    await clock.advance(1_000);
    await backend.probe();
    expect(backend.status()).toMatchObject({ status: 'pass', state: 'UP', consecutiveFailures: 0 });
    expect(changes).toEqual(['UNKNOWN', 'UP', 'DEGRADED', 'DOWN', 'UP']);
    expect(server.hits).toBe(2);
  });

  test('a probe that hangs times out on the clock', async () => {
    const clock = clockAtWholeSecond();
    const server = await startServer(() => {});
    const { backend } = backendFor(server, clock, { downAfterFailures: 1 });
    backend.start();
    const probed = backend.probe();
    await server.waitForHit(1);
    await clock.advance(500);
    await probed;
    expect(backend.status()).toMatchObject({
      state: 'DOWN',
      lastError: '"lmStudio" GET /models timed out after 500 ms',
    });
  });
});
