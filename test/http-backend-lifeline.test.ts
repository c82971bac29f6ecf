/*
 * The HTTP backend's reliability repairs against a real node:http server on 127.0.0.1: a long
 * Retry-After holds the breaker OPEN instead of being slept through, an aborted call is a cancellation
 * (neither success nor failure), one owner per periodic probe, and health that tells the truth about
 * an unreachable critical backend. Every wait of the backend and the bridge runs on a manual clock.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, test } from 'vitest';
import { createHttpBackend, HttpStatusError } from '../src/backends/http-index.js';
import { createBridge } from '../src/bridge/create-bridge.js';
import { createManualClock } from '../src/clock.js';
import { BrokenCircuitError } from '../src/reliability/errors.js';
import { quietLogger, SOCKETS_OFF, until } from './bridge-fixtures.js';
import { cleanups, json, startServer } from './support/http-server.js';

const T0 = Date.UTC(2030, 0, 1, 12, 0, 0);

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('Retry-After longer than maxDelayMs', () => {
  test('a 429 asking for an hour: one hit, answered at once, breaker held OPEN for the time asked (capped)', async () => {
    const clock = createManualClock(T0);
    const server = await startServer((_req, res) => json(res, 429, {}, { 'retry-after': '3600' }));
    const backend = createHttpBackend({
      name: 'lmStudio',
      baseUrl: `http://127.0.0.1:${server.port}/v1`,
      clock,
      random: () => 0.5,
      breaker: { maxHoldOpenMs: 900_000 },
    });
    cleanups.push(() => backend.stop());

    // No clock advance: the answer comes without waiting on any retry timer.
    const error = await backend.request('/chat/completions', { method: 'POST' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpStatusError);
    expect((error as HttpStatusError).retryAfterMs).toBe(3_600_000);
    expect(server.hits).toBe(1);
    expect(backend.breaker.state).toBe('OPEN');
    expect(backend.breaker.retryAfterMs()).toBe(900_000);
    expect(clock.pendingTimers()).toBe(1); // the breaker's OPEN timer, nothing else

    await expect(backend.request('/chat/completions')).rejects.toBeInstanceOf(BrokenCircuitError);
    expect(server.hits).toBe(1);
    await clock.advance(900_000);
    expect(backend.breaker.state).toBe('HALF_OPEN');
  });

  test('the default cap is 10 minutes', async () => {
    const clock = createManualClock(T0);
    const server = await startServer((_req, res) => json(res, 503, {}, { 'retry-after': '86400' }));
    const backend = createHttpBackend({ name: 'api', baseUrl: `http://127.0.0.1:${server.port}`, clock });
    cleanups.push(() => backend.stop());
    await expect(backend.request('/x')).rejects.toBeInstanceOf(HttpStatusError);
    expect(server.hits).toBe(1);
    expect(backend.breaker.retryAfterMs()).toBe(600_000);
  });
});

describe('an aborted call is cancelled, not a success', () => {
  test('4 failures, 1 call aborted by its caller, 1 failure: the breaker trips (threshold 5)', async () => {
    const clock = createManualClock(T0);
    let hang = false;
    const server = await startServer((_req, res) => {
      if (!hang) json(res, 500, {});
    });
    const backend = createHttpBackend({
      name: 'lmStudio',
      baseUrl: `http://127.0.0.1:${server.port}/v1`,
      clock,
      retry: { maxRetries: 0 },
      breaker: { failureThreshold: 5 },
    });
    cleanups.push(() => backend.stop());
    for (let i = 0; i < 4; i++) await expect(backend.request('/x')).rejects.toBeInstanceOf(HttpStatusError);
    hang = true;
    const caller = new AbortController();
    const aborted = backend.request('/x', { signal: caller.signal });
    await server.waitForHit(5);
    caller.abort(new Error('user left'));
    await expect(aborted).rejects.toThrow('user left');
    await until(() => backend.breaker.metrics().cancelledCalls === 1, 5_000, 'the cancellation');
    expect(backend.breaker.metrics()).toMatchObject({ consecutiveFailures: 4, totalSuccesses: 0 });
    hang = false;
    await expect(backend.request('/x')).rejects.toBeInstanceOf(HttpStatusError);
    expect(backend.breaker.state).toBe('OPEN');
  });
});

describe('one owner per periodic probe', () => {
  test('the backend has no probe timer of its own; a bridge health period is one probe at the server', async () => {
    const clock = createManualClock(T0);
    const server = await startServer((req, res) =>
      req.url === '/v1/models' ? json(res, 200, { data: [] }) : json(res, 404, {}),
    );
    const bridge = createBridge({
      backends: {
        ...SOCKETS_OFF,
        lmStudio: { url: `http://127.0.0.1:${server.port}/v1` },
      },
      // Longer than the backend's old probe interval (10 s), which probed on its own in between.
      healthCheckIntervalMs: 30_000,
      healthCheckJitter: 0,
      surface: false,
      clock,
      logger: quietLogger,
    });
    cleanups.push(() => bridge.stop());
    await bridge.start();
    await until(() => bridge.health().backends.lmStudio?.state === 'UP', 5_000, 'the first probe');
    const afterStart = server.hits;
    for (let period = 1; period <= 3; period++) {
      await clock.advance(30_000);
      await server.waitForHit(afterStart + period);
      await until(
        () => bridge.health().backends.lmStudio?.lastCheckAt === new Date(clock.now()).toISOString(),
      );
      expect(server.hits).toBe(afterStart + period);
    }
  });
});

describe('health tells the truth', () => {
  test('critical lmStudio unreachable: the report is fail after the first check, not warn', async () => {
    const clock = createManualClock(T0);
    const port = await closedPort();
    const bridge = createBridge({
      backends: {
        ...SOCKETS_OFF,
        lmStudio: { url: `http://127.0.0.1:${port}/v1` },
      },
      surface: false,
      clock,
      logger: quietLogger,
    });
    cleanups.push(() => bridge.stop());
    await bridge.start();
    await until(() => bridge.health().backends.lmStudio?.lastCheckAt !== null, 5_000, 'the first probe');
    const report = bridge.health();
    expect(report.backends.lmStudio).toMatchObject({ state: 'DOWN', status: 'fail', critical: true });
    expect(report.status).toBe('fail');
  });

  test('lastErrorAt says when lastError happened; after recovery the error is older than the success', async () => {
    const clock = createManualClock(T0);
    let healthy = false;
    const server = await startServer((_req, res) =>
      healthy ? json(res, 200, { data: [] }) : json(res, 503, {}),
    );
    const backend = createHttpBackend({
      name: 'lmStudio',
      baseUrl: `http://127.0.0.1:${server.port}/v1`,
      clock,
    });
    cleanups.push(() => backend.stop());
    expect(backend.status()).toMatchObject({ lastError: null, lastErrorAt: null });
    backend.start();
    await backend.probe();
    const failedAt = new Date(clock.now()).toISOString();
    expect(backend.status()).toMatchObject({ status: 'fail', lastErrorAt: failedAt });
    expect(backend.status().lastError).toMatch(/^HTTP 503/);
    healthy = true;
    await clock.advance(10_000);
    await backend.probe();
    const recovered = backend.status();
    expect(recovered).toMatchObject({ status: 'pass', state: 'UP', lastErrorAt: failedAt });
    expect(Date.parse(recovered.lastSuccessAt as string)).toBeGreaterThan(Date.parse(failedAt));
  });
});

describe('a CIRCUIT_OPEN answer is the breaker refusing', () => {
  test('every refused send_llm_prompt is counted in the breaker’s rejectedCalls', async () => {
    const clock = createManualClock(T0);
    const port = await closedPort();
    const bridge = createBridge({
      backends: {
        ...SOCKETS_OFF,
        lmStudio: { url: `http://127.0.0.1:${port}/v1`, options: { breaker: { failureThreshold: 1 } } },
      },
      surface: false,
      clock,
      logger: quietLogger,
    });
    cleanups.push(() => bridge.stop());
    await bridge.start();
    await until(() => bridge.health().backends.lmStudio?.breaker === 'OPEN', 5_000, 'the breaker to open');
    for (let i = 0; i < 25; i++) {
      const result = await bridge.callTool('send_llm_prompt', { prompt: 'hi' });
      expect(result).toMatchObject({ success: false, error_code: 'CIRCUIT_OPEN' });
    }
    const status = (await bridge.callTool('reliability_get_status', {})) as unknown as {
      breakers: Record<string, { rejectedCalls: number }>;
    };
    expect(status.breakers.lmStudio?.rejectedCalls).toBe(25);
  });
});
