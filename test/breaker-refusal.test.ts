import { expect, test } from 'vitest';
import { createManualClock } from '../src/clock.js';
import { createCircuitBreaker } from '../src/reliability/breaker.js';
import { BrokenCircuitError } from '../src/reliability/errors.js';

const failing = async () => {
  throw new Error('down');
};

test('refusals of one OPEN period: each counted, instanceof, name and state kept, whole-ms retryAfterMs from the deadline', async () => {
  const clock = createManualClock();
  const breaker = createCircuitBreaker({ name: 'r', failureThreshold: 1, resetTimeoutMs: 1_000, clock });
  await breaker.execute(failing).catch(() => {});
  expect(breaker.state).toBe('OPEN');
  const first = await breaker.execute(async () => 1).catch((error: unknown) => error);
  expect(first).toBeInstanceOf(BrokenCircuitError);
  expect(first).toMatchObject({ name: 'BrokenCircuitError', state: 'OPEN', retryAfterMs: 1_000 });
  await clock.advance(250.5);
  const second = (await breaker
    .execute(async () => 1)
    .catch((error: unknown) => error)) as BrokenCircuitError;
  expect(second.retryAfterMs).toBe(750);
  expect(second.message).toContain('750 ms');
  expect(String(second)).toBe(`BrokenCircuitError: ${second.message}`);
  expect(breaker.metrics().rejectedCalls).toBe(2);
  // HOLD_OPEN moves the deadline: the refusal says so.
  breaker.holdOpen(5_000);
  const held = (await breaker.execute(async () => 1).catch((error: unknown) => error)) as BrokenCircuitError;
  expect(held.retryAfterMs).toBe(5_000);
  await clock.advance(5_000);
  expect(breaker.state).toBe('HALF_OPEN');
  breaker.stop();
});
