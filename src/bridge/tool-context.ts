/*
 * The `ToolContext` a code-defined tool runs with: its backend, and `ctx.run`, which gates each
 * attempt on the backend's availability and retries transient failures with the tool's policy,
 * passing the caller's cancellation signal to every attempt and reporting each retry wait as progress
 * when the caller asked for progress.
 */
import type { InspectionEvent, Observer } from 'xstate';
import type { Backend } from '../backends/types.js';
import type { Clock } from '../clock.js';
import { neverAborted } from '../reliability/call.js';
import { retry } from '../reliability/retry.js';
import { nestedRetryBudget, type RetryBudget } from '../reliability/retry-budget.js';
import type { RetryMetrics } from '../reliability/retry-metrics.js';
import type { ReliabilityEventHub } from '../telemetry/events.js';
import { setToolBackend, traceAttempts } from '../telemetry/tracing.js';
import { assertAvailable } from '../tools/availability.js';
import { errorCodeOf } from '../tools/errors.js';
import type { BridgeView, ToolContext, ToolDefinition, ToolProgress } from '../tools/types.js';
import { callProgress } from './progress.js';

export interface ToolContextDeps {
  view: BridgeView;
  backends: ReadonlyMap<string, Backend>;
  budgets: ReadonlyMap<string, RetryBudget>;
  clock: Clock;
  random: () => number;
  retryMetrics: RetryMetrics;
  events: ReliabilityEventHub;
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
}

const retryable = (error: unknown) => {
  const code = errorCodeOf(error);
  return code === 'BACKEND_UNAVAILABLE' || code === 'TIMEOUT';
};

/** Makes the context of one call of `definition`. */
export function toolContexts(deps: ToolContextDeps) {
  const { view, backends, budgets, clock, random, retryMetrics, events, inspect } = deps;
  return (
    definition: ToolDefinition,
    signal: AbortSignal | undefined,
    onProgress?: (progress: ToolProgress) => void,
  ): ToolContext => {
    const backend = definition.backend === undefined ? undefined : backends.get(definition.backend);
    const operation = definition.operation;
    // An HTTP backend's request() counts the call itself: a retry around it only draws on the budget.
    const shared = definition.backend === undefined ? undefined : budgets.get(definition.backend);
    const budget = shared && backend?.kind === 'http' ? nestedRetryBudget(shared) : shared;
    setToolBackend(definition.backend);
    const { progress, onRetry } = callProgress(onProgress);
    return {
      bridge: view,
      backend,
      operation,
      clock,
      random,
      signal,
      progress,
      onRetry,
      run<T>(fn: (attempt: number, signal: AbortSignal) => T | PromiseLike<T>): Promise<T> {
        const attempt = (index: number, attemptSignal: AbortSignal) => {
          if (backend) assertAvailable(backend, clock.now());
          return fn(index, attemptSignal);
        };
        if (operation === undefined) {
          if (signal?.aborted) return Promise.reject(signal.reason);
          return Promise.resolve().then(() => attempt(0, signal ?? neverAborted));
        }
        const traced = traceAttempts(definition.backend, operation, attempt);
        return retry(events.timeAttempts(definition.backend, operation, traced), {
          operation,
          metrics: retryMetrics,
          budget,
          clock,
          random,
          ...(signal ? { signal } : {}),
          shouldRetry: retryable,
          onRetry: events.onRetry(definition.backend, 'tool', onRetry),
          ...(inspect ? { inspect } : {}),
        });
      },
    };
  };
}
