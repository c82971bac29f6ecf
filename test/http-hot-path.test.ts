/*
 * What the HTTP backend's call path does per request, against a real node:http server on 127.0.0.1
 * with a manual clock: who hears of a success, and what `fetch` receives. The hot path was rewritten
 * for speed (bench/bridge-split.ts); these pin its behaviour.
 */
import { getEventListeners, getMaxListeners } from 'node:events';
import { describe, expect, test } from 'vitest';
import { createHttpBackend, type HttpBackendOptions } from '../src/backends/http-index.js';
import { createManualClock, type ManualClock } from '../src/clock.js';
import { cleanups, json, startServer, type TestServer } from './support/http-server.js';

function backendOn(server: TestServer, clock: ManualClock, overrides: Partial<HttpBackendOptions> = {}) {
  const backend = createHttpBackend({
    name: 'lm',
    baseUrl: `http://127.0.0.1:${server.port}/v1?key=k1`,
    headers: { Authorization: 'Bearer default', 'X-Default': 'd' },
    clock,
    random: () => 0.5,
    requestTimeoutMs: 1_000,
    ...overrides,
  });
  cleanups.push(() => backend.stop());
  return backend;
}

describe('a success tells the machine only what it can show', () => {
  test('a latency within a factor 2 of the one shown (all under 4 ms alike) notifies nobody; a larger move does', async () => {
    const clock = createManualClock(1_000);
    const server = await startServer((_req, res) => json(res, 200, { ok: true }));
    /** Ms the clock moves while each call's answer is read. */
    const latencies: number[] = [];
    const backend = backendOn(server, clock, {
      fetch: async (url, init) => {
        const response = await globalThis.fetch(url, init);
        await clock.advance(latencies.shift() ?? 0);
        return response;
      },
    });
    let notified = 0;
    backend.subscribe(() => notified++);
    let snapshots = 0;
    backend.actor.subscribe(() => snapshots++);
    const call = async (ms: number) => {
      latencies.push(ms);
      await backend.requestJson('/x');
      expect(backend.status().latencyMs).toBe(ms); // status() keeps the exact latency of the last success
    };

    await call(0);
    expect(backend.state).toBe('UP');
    const afterUp = { notified, snapshots };
    expect(afterUp.notified).toBeGreaterThan(0);

    // A ms clock reads a sub-ms call as 0 or 1, and a loaded machine's calls wander across 2 ms.
    for (const ms of [1, 3, 0, 2, 4, 1, 3]) await call(ms);
    expect({ notified, snapshots }).toEqual(afterUp);

    await call(9); // more than 2 × 4
    expect(snapshots).toBe(afterUp.snapshots + 1);
    expect(notified).toBe(afterUp.notified + 1);
    expect(backend.actor.getSnapshot().context.latencyMs).toBe(9);
    for (const ms of [6, 12, 5]) await call(ms); // within 2 × 9
    expect(snapshots).toBe(afterUp.snapshots + 1);
    await call(1); // under half of 9
    expect(snapshots).toBe(afterUp.snapshots + 2);
    expect(backend.actor.getSnapshot().context.latencyMs).toBe(1);
  });
});

describe('what fetch receives', () => {
  test('a signal handed to fetch carries at most a few abort listeners, however many requests went before (undici leaves one per request until GC)', async () => {
    const clock = createManualClock(1_000);
    const server = await startServer((_req, res) => json(res, 200, { ok: true }));
    let most = 0;
    const backend = backendOn(server, clock, {
      fetch: (url, init) => {
        most = Math.max(most, getEventListeners(init.signal as AbortSignal, 'abort').length);
        return globalThis.fetch(url, init);
      },
    });
    for (let i = 0; i < 200; i++) await backend.requestJson('/x');
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(10);
  });

  test("the signal's listener limit stays readable: undici reads it on every request, and a limit of 0 makes Node 20 throw (an error built per request)", async () => {
    const clock = createManualClock(1_000);
    const server = await startServer((_req, res) => json(res, 200, { ok: true }));
    const limits: unknown[] = [];
    const backend = backendOn(server, clock, {
      fetch: (url, init) => {
        try {
          limits.push(getMaxListeners(init.signal as AbortSignal));
        } catch (error) {
          limits.push((error as { code?: string }).code);
        }
        return globalThis.fetch(url, init);
      },
    });
    for (let i = 0; i < 3; i++) await backend.requestJson('/x');
    await backend.requestJson('/x', { signal: new AbortController().signal });
    expect(limits).toHaveLength(4);
    for (const limit of limits) expect(typeof limit).toBe('number');
  });

  test("the caller's RequestInit fields pass through; the backend's own options (json, operation, timeoutMs, signal) do not", async () => {
    const clock = createManualClock(1_000);
    const server = await startServer((_req, res) => json(res, 200, { ok: true }));
    const seen: { url: string; init: RequestInit }[] = [];
    const backend = backendOn(server, clock, {
      fetch: (url, init) => {
        seen.push({ url, init });
        return globalThis.fetch(url, init);
      },
    });
    const caller = new AbortController();
    await backend.requestJson('/chat', {
      json: { a: 1 },
      headers: { 'X-Default': 'mine', Accept: 'text/plain' },
      redirect: 'error',
      operation: 'sendLLMPrompt',
      timeoutMs: 500,
      signal: caller.signal,
    });
    await backend.request('models', { method: 'get' });
    await backend.requestJson('/put', { method: 'put', json: [1] });

    const [post, get, put] = seen;
    expect(post?.url).toBe(`http://127.0.0.1:${server.port}/v1/chat?key=k1`);
    expect(Object.keys(post?.init ?? {}).sort()).toEqual(['body', 'headers', 'method', 'redirect', 'signal']);
    expect(post?.init).toMatchObject({
      method: 'POST',
      body: '{"a":1}',
      redirect: 'error',
      headers: {
        authorization: 'Bearer default',
        'x-default': 'mine',
        accept: 'text/plain',
        'content-type': 'application/json',
      },
    });
    expect(post?.init.signal).toBeInstanceOf(AbortSignal);
    expect(post?.init.signal).not.toBe(caller.signal);

    expect(get?.url).toBe(`http://127.0.0.1:${server.port}/v1/models?key=k1`);
    expect(get?.init.method).toBe('GET');
    expect(get?.init.body).toBeUndefined();
    expect(get?.init.headers).toEqual({ authorization: 'Bearer default', 'x-default': 'd' });

    expect(put?.init).toMatchObject({
      method: 'PUT',
      body: '[1]',
      headers: { accept: 'application/json', 'content-type': 'application/json' },
    });
    // Every attempt gets headers of its own: a fetch that changes them changes nothing for the next one.
    expect(get?.init.headers).not.toBe(put?.init.headers);
    expect(server.requests.map((r) => r.method)).toEqual(['POST', 'GET', 'PUT']);
  });
});

describe('attempts started in the same ms with the same timeout share their abort', () => {
  test('one that hangs times out alone: those that answered are unaffected, and a later one keeps its own deadline', async () => {
    const clock = createManualClock(1_000);
    const server = await startServer((req, res) => {
      if (req.url?.startsWith('/v1/fast')) json(res, 200, { ok: true });
      // /v1/slow and /v1/late never answer
    });
    const backend = backendOn(server, clock, { retry: { maxRetries: 0 } });
    const slow = backend.requestJson('/slow').catch((error: unknown) => error);
    const fast = await backend.requestJson('/fast');
    await server.waitForHit(2);
    expect(fast).toEqual({ ok: true });
    await clock.advance(500);
    const later = backend.requestJson('/late').catch((error: unknown) => error);
    await server.waitForHit(3);
    await clock.advance(500);
    expect(await slow).toMatchObject({
      name: 'HttpTimeoutError',
      message: expect.stringContaining('GET /slow'),
    });
    expect(await Promise.race([later, Promise.resolve('pending')])).toBe('pending');
    // Same ms again, after the timeout: a fresh abort, not the one that fired.
    const again = await backend.requestJson('/fast?again');
    expect(again).toEqual({ ok: true });
    await clock.advance(500);
    expect(await later).toMatchObject({
      name: 'HttpTimeoutError',
      message: expect.stringContaining('GET /late'),
    });
  });

  test('stop() rejects every attempt of the group; a caller abort ends only its own', async () => {
    const clock = createManualClock(1_000);
    const server = await startServer(() => {}); // never answers
    const backend = backendOn(server, clock, { retry: { maxRetries: 0 } });
    const caller = new AbortController();
    const a = backend.requestJson('/a').catch((error: unknown) => error);
    const b = backend.requestJson('/b').catch((error: unknown) => error);
    const c = backend.requestJson('/c', { signal: caller.signal }).catch((error: unknown) => error);
    await server.waitForHit(3);
    caller.abort(new Error('caller gave up'));
    expect(await c).toMatchObject({ message: 'caller gave up' });
    expect(await Promise.race([a, Promise.resolve('pending')])).toBe('pending');
    await backend.stop();
    expect(await a).toMatchObject({ name: 'HttpBackendStoppedError' });
    expect(await b).toMatchObject({ name: 'HttpBackendStoppedError' });
  });
});
