/*
 * A bridge for the telemetry tests: only the HTTP backend `lmStudio` (the socket backends are
 * disabled), a stub fetch, a manual clock, a fixed random and a breaker that trips after 2 failures
 * and half-opens after 1 s. Not started: no probes run, every event comes from the test.
 */
import { z } from 'zod';
import { createBridge } from '../src/bridge/create-bridge.js';
import type { Bridge, BridgeConfig } from '../src/bridge/types.js';
import { createManualClock, type ManualClock } from '../src/clock.js';
import { errorCodeOf } from '../src/tools/errors.js';
import { SOCKETS_OFF } from './bridge-fixtures.js';

export function telemetryBridge(extra: BridgeConfig = {}): { bridge: Bridge; clock: ManualClock } {
  const clock = createManualClock();
  const bridge = createBridge({
    clock,
    random: () => 0.5,
    surface: false,
    fetch: async () => new Response(JSON.stringify({ data: [{ id: 'local' }] }), { status: 200 }),
    logger: { warn: () => {}, info: () => {}, error: () => {}, debug: () => {} },
    ...extra,
    backends: {
      ...SOCKETS_OFF,
      lmStudio: {
        url: 'http://127.0.0.1:1/v1',
        options: {
          breaker: { failureThreshold: 2, resetTimeoutMs: 1_000, successThreshold: 1, resetJitter: 0 },
        },
      },
    },
  });
  return { bridge, clock };
}

/** A timeout-like error (retried by the bridge); its message carries secrets the logs must not show. */
export function timeoutError(): Error {
  const error = new Error('timed out calling http://admin:hunter2@127.0.0.1:1/v1/chat?api_key=sk-SECRET');
  error.name = 'TimeoutError';
  if (errorCodeOf(error) !== 'TIMEOUT') throw new Error('fixture: TimeoutError no longer maps to TIMEOUT');
  return error;
}

/**
 * Registers `flaky`: a tool on `lmStudio` (operation `fetch`, 3 retries) whose first `failures` attempts
 * throw {@link timeoutError}.
 */
export function registerFlakyTool(bridge: Bridge, failures: number): void {
  bridge.registerTool({
    name: 'flaky',
    description: 'fails, then succeeds',
    inputSchema: z.object({}),
    backend: 'lmStudio',
    operation: 'fetch',
    handler: async (_args, ctx) =>
      ctx.run(async (attempt) => {
        if (attempt < failures) throw timeoutError();
        return { success: true as const, attempts: attempt + 1 };
      }),
  });
}

/** Drives `breaker` through a trip (2 failures), the reset timeout and a recovery (1 success). */
export async function tripAndRecover(bridge: Bridge, clock: ManualClock): Promise<void> {
  const breaker = bridge.backend('lmStudio')?.breaker;
  if (!breaker) throw new Error('no lmStudio backend');
  const state = (): string => breaker.state;
  for (let i = 0; i < 2; i++) await breaker.execute(() => Promise.reject(new Error('down'))).catch(() => {});
  if (state() !== 'OPEN') throw new Error(`expected OPEN, got ${state()}`);
  await breaker.execute(() => 'refused').catch(() => {});
  await clock.advance(1_000);
  if (state() !== 'HALF_OPEN') throw new Error(`expected HALF_OPEN, got ${state()}`);
  await breaker.execute(() => Promise.resolve('ok'));
  if (state() !== 'CLOSED') throw new Error(`expected CLOSED, got ${state()}`);
}
