export type { BackoffOptions } from '../machines/backoff.js';
export { backoffDelay } from '../machines/backoff.js';
export { type BreakerContext, type BreakerEvent, breakerMachine } from '../machines/breaker.machine.js';
export { type RetryContext, type RetryMachineInput, retryMachine } from '../machines/retry.machine.js';
export * from './backends/http-index.js';
export * from './backends/index.js';
export * from './bridge/index.js';
export { type Clock, createManualClock, type ManualClock, systemClock } from './clock.js';
export { toMermaid } from './diagram/mermaid.js';
export {
  type BreakerState,
  type BreakerTransition,
  type CircuitBreaker,
  type CircuitBreakerMetrics,
  type CircuitBreakerOptions,
  createCircuitBreaker,
  type ExecuteOptions,
} from './reliability/breaker.js';
export {
  type BreakerRule,
  type BreakerRuleOptions,
  FAILURE_RATE_DEFAULTS,
  type SlidingWindow,
} from './reliability/breaker-rule-options.js';
export { BreakerStoppedError, BrokenCircuitError } from './reliability/errors.js';
export { DEFAULT_RETRY_POLICIES, type RetryPolicy } from './reliability/policies.js';
export { type RetryInfo, type RetryOptions, retry } from './reliability/retry.js';
export {
  createRetryMetrics,
  type OperationRetryMetrics,
  type RetryMetrics,
  type RetryMetricsSnapshot,
  type RetryOutcome,
} from './reliability/retry-metrics.js';
export * from './telemetry/index.js';
export * from './webmcp/register.js';
