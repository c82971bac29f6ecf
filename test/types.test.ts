import { describe, expectTypeOf, test } from 'vitest';
import type { z } from 'zod';
import {
  type BreakerState,
  type Bridge,
  type BrokenCircuitError,
  type CircuitBreakerMetrics,
  type Clock,
  createCircuitBreaker,
  createManualClock,
  createRetryMetrics,
  DEFAULT_RETRY_POLICIES,
  type RetryMetricsSnapshot,
  retry,
  type ToolContext,
  type ToolDescriptor,
  type ToolProgress,
} from '../src/index.js';

describe('public types', () => {
  test('execute and retry keep the type of what fn returns, sync or async', () => {
    const breaker = createCircuitBreaker();
    expectTypeOf(breaker.execute(() => 1)).toEqualTypeOf<Promise<number>>();
    expectTypeOf(breaker.execute(async () => 'x')).toEqualTypeOf<Promise<string>>();
    expectTypeOf(retry(async (attempt: number, signal: AbortSignal) => ({ attempt, signal }))).toEqualTypeOf<
      Promise<{ attempt: number; signal: AbortSignal }>
    >();
    breaker.stop();
  });

  test('state values and errors are the contract names', () => {
    expectTypeOf<BreakerState>().toEqualTypeOf<'CLOSED' | 'OPEN' | 'HALF_OPEN'>();
    expectTypeOf<BrokenCircuitError['state']>().toEqualTypeOf<BreakerState>();
    expectTypeOf<BrokenCircuitError['retryAfterMs']>().toEqualTypeOf<number>();
    expectTypeOf<CircuitBreakerMetrics['lastOpenDurationMs']>().toEqualTypeOf<number | null>();
    expectTypeOf<CircuitBreakerMetrics['timeInStateMs']>().toEqualTypeOf<Record<BreakerState, number>>();
  });

  test('clocks, policies and retry metrics', () => {
    expectTypeOf(createManualClock()).toMatchTypeOf<Clock>();
    expectTypeOf(createManualClock().advance).returns.toEqualTypeOf<Promise<void>>();
    expectTypeOf(DEFAULT_RETRY_POLICIES.fetch).toMatchTypeOf<
      { maxRetries: number; baseDelayMs: number } | undefined
    >();
    expectTypeOf(createRetryMetrics().snapshot()).toEqualTypeOf<RetryMetricsSnapshot>();
    expectTypeOf<RetryMetricsSnapshot['successRate']>().toEqualTypeOf<number | null>();
    expectTypeOf(retry)
      .parameter(1)
      .toMatchTypeOf<
        { operation?: string; signal?: AbortSignal; clock?: Clock; random?: () => number } | undefined
      >();
  });

  test('callTool takes onProgress beside signal; a tool reports through ctx.progress', () => {
    expectTypeOf<Bridge['callTool']>().parameter(2).toEqualTypeOf<
      | {
          signal?: AbortSignal;
          onProgress?: (progress: ToolProgress) => void;
          traceparent?: string;
          tracestate?: string;
        }
      | undefined
    >();
    expectTypeOf<ToolProgress>().toEqualTypeOf<{ progress: number; message: string; total?: number }>();
    expectTypeOf<ToolContext['progress']>().toEqualTypeOf<(message: string) => void>();
  });

  test('a tool definition may declare its output as a zod object; a descriptor lists it as JSON Schema', () => {
    type Definition = Parameters<Bridge['registerTool']>[0];
    expectTypeOf<Definition['outputSchema']>().toEqualTypeOf<z.ZodObject<z.ZodRawShape> | undefined>();
    expectTypeOf<ToolDescriptor['outputSchema']>().toEqualTypeOf<Record<string, unknown> | undefined>();
  });
});
