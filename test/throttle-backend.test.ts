import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { isOverloadSignal } from '../src/backends/backend-throttle.js';
import { createHttpBackend } from '../src/backends/http.js';
import { createManualClock } from '../src/clock.js';
import { mulberry32 } from '../src/lab/faults.js';
import { ThrottledError } from '../src/reliability/throttle.js';
import { errorCodeOf, toolFailure } from '../src/tools/errors.js';

/**
 * A real HTTP server on 127.0.0.1 that serves `capacity` requests per round and answers 503 beyond
 * them; the test opens each round (no timing: rounds are counted, not measured).
 */
async function cappedServer(capacity: number) {
  let served = 0;
  const load: number[] = [];
  const server: Server = createServer((_req, res) => {
    load[load.length - 1] = (load.at(-1) ?? 0) + 1;
    if (served < capacity) {
      served++;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    } else res.writeHead(503).end('overloaded');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    load,
    nextRound() {
      served = 0;
      load.push(0);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/** 30 rounds of 20 concurrent requests against a server that serves 5 per round; load per round. */
async function overload(throttle: false | undefined) {
  const server = await cappedServer(5);
  closers.push(server.close);
  const clock = createManualClock();
  const backend = createHttpBackend({
    name: 'api',
    baseUrl: server.url,
    clock,
    random: mulberry32(7),
    retry: { maxRetries: 0 },
    // Held CLOSED: what falls is the throttle's doing, not the breaker's.
    breaker: { failureThreshold: 1e9 },
    ...(throttle === false ? { throttle: false } : {}),
  });
  let throttled = 0;
  let throttling = false;
  for (let round = 0; round < 30; round++) {
    server.nextRound();
    const calls = Array.from({ length: 20 }, () =>
      backend.request('/work').catch((error: unknown) => {
        if (error instanceof ThrottledError) throttled++;
      }),
    );
    await Promise.all(calls);
    throttling ||= backend.status().throttling === true;
    await clock.advance(100);
  }
  const status = backend.status();
  await backend.stop();
  return { load: server.load, throttled, throttling, status };
}

describe('adaptive throttling of an HTTP backend', () => {
  test('the load an overloaded server receives falls (503 beyond capacity)', {
    timeout: 60_000,
  }, async () => {
    const off = await overload(false);
    expect(off.load.slice(-10).every((n) => n === 20)).toBe(true);
    expect(off.status.throttling).toBeUndefined();

    const on = await overload(undefined);
    const last10 = on.load.slice(-10).reduce((a, b) => a + b, 0) / 10;
    expect(on.load[0]).toBe(20);
    // The default k = 1.05 lets about 1.05× the accepted load through: ~5.3 of 20 per round.
    expect(last10).toBeLessThan(8);
    expect(on.throttled).toBeGreaterThan(50);
    expect(on.throttling).toBe(true);
    expect(on.status.rejectProbability).toBeGreaterThan(0);
  });

  test('overload signals, the tool error code and retry_after_ms', () => {
    expect(isOverloadSignal({ name: 'HttpStatusError', status: 503 })).toBe(true);
    expect(isOverloadSignal({ name: 'HttpStatusError', status: 429 })).toBe(true);
    expect(isOverloadSignal({ name: 'HttpStatusError', status: 500 })).toBe(false);
    expect(isOverloadSignal({ name: 'HttpTimeoutError' })).toBe(true);
    expect(isOverloadSignal({ name: 'HttpNetworkError', code: 'ECONNREFUSED' })).toBe(true);
    expect(isOverloadSignal({ name: 'HttpNetworkError', code: 'ECONNRESET' })).toBe(false);
    const error = new ThrottledError('api', 0.4, 3_000);
    expect(errorCodeOf(error)).toBe('CIRCUIT_OPEN');
    expect(toolFailure(error)).toMatchObject({ error_code: 'CIRCUIT_OPEN', retry_after_ms: 3_000 });
  });
});
