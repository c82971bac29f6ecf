/* The HTTP backend's options and its public interface (`createHttpBackend` is in http.ts). */

import type { InspectionEvent, Observer } from 'xstate';
import { errorMessage } from '../../machines/error-message.js';
import type { HttpAvailability } from '../../machines/http.machine.js';
import type { Clock } from '../clock.js';
import type { CircuitBreakerOptions } from '../reliability/breaker.js';
import type { RetryInfo } from '../reliability/retry.js';
import type { RetryBudget } from '../reliability/retry-budget.js';
import type { RetryMetrics } from '../reliability/retry-metrics.js';
import type { BackendThrottleConfig } from './backend-throttle.js';
import type { Backend, HealthStatus } from './types.js';

/** The subset of `fetch` the backend uses; inject one for tests or instrumentation. */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/** A response whose body has been read completely. */
export interface HttpResponse {
  status: number;
  statusText: string;
  ok: boolean;
  headers: Headers;
  /** The whole body as text. */
  text: string;
  /** Parses `text`; throws `HttpInvalidJsonError` when it is not JSON. */
  json<T = unknown>(): T;
  /** Time of the successful attempt, from sending to the end of the body, in ms. */
  latencyMs: number;
  /** Attempts made, the successful one included. */
  attempts: number;
}

/** Where the backend logs. Messages and data never contain header values or query strings. */
export interface HttpBackendLogger {
  debug?(message: string, data?: Record<string, unknown>): void;
  info?(message: string, data?: Record<string, unknown>): void;
  warn?(message: string, data?: Record<string, unknown>): void;
  error?(message: string, data?: Record<string, unknown>): void;
}

/** Retry settings of a backend. `operation` (default `'fetch'`) picks the `DEFAULT_RETRY_POLICIES` entry. */
export interface HttpRetryOptions {
  operation?: string;
  maxRetries?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  jitter?: number;
  metrics?: RetryMetrics;
  onRetry?: (info: RetryInfo) => void;
  /** Retry budget shared with every other retry against this backend (the bridge gives one). */
  budget?: RetryBudget;
}

/** Breaker settings of a backend (its name is the backend's name). */
export interface HttpBreakerOptions {
  /**
   * The trip rule (see `createCircuitBreaker({ rule })`). Default here the consecutive rule; a bridge's
   * `http` backends default to the failure-rate rule (see docs/config.md).
   */
  rule?: CircuitBreakerOptions['rule'];
  failureThreshold?: number;
  resetTimeoutMs?: number;
  halfOpenMaxCalls?: number;
  successThreshold?: number;
  /** Spreads the OPEN → HALF_OPEN delay of many backends. Default 0.2. */
  resetJitter?: number;
  /** A saved breaker state to start from (see `createCircuitBreaker({ restore })`). */
  restore?: CircuitBreakerOptions['restore'];
  /** Longest `Retry-After` honoured by holding the breaker OPEN. Default 600 000 (10 minutes). */
  maxHoldOpenMs?: number;
}

export interface HttpBackendOptions {
  name: string;
  /** E.g. `http://localhost:1234/v1`. Never shown in errors or logs (it may carry credentials). */
  baseUrl: string;
  /** GET `{baseUrl}{probePath}` is the probe. Default `'/models'` (LM Studio has no health endpoint). */
  probePath?: string;
  /**
   * @deprecated Ignored: the backend has no probe timer of its own. Periodic probes are `probe()`,
   * called by the bridge's health check (`healthCheckIntervalMs`); kept so old configs still load.
   */
  probeIntervalMs?: number;
  /** Default 2 000 ms. */
  probeTimeoutMs?: number;
  /** Per attempt; `request(path, { timeoutMs })` overrides it. Default 60 000 ms. */
  requestTimeoutMs?: number;
  /** Consecutive failed calls/probes that make the backend DOWN (fewer: DEGRADED). Default 3. */
  downAfterFailures?: number;
  /** Default `globalThis.fetch` (read at call time). */
  fetch?: FetchLike;
  /** Sent with every request and probe (e.g. `Authorization`); never logged nor put in errors or status. */
  headers?: Record<string, string>;
  clock?: Clock;
  /** Source of retry jitter and breaker reset jitter. Default `Math.random`. */
  random?: () => number;
  retry?: HttpRetryOptions;
  breaker?: HttpBreakerOptions;
  /** Shown in `status()`; the bridge decides what a failing critical backend means. Default false. */
  critical?: boolean;
  /**
   * Client-side adaptive throttling (backend-throttle.ts): `{ k, windowMs, minimumRequests }`, or
   * `false` to turn it off. On by default (k 1.1, one minute).
   */
  throttle?: BackendThrottleConfig;
  logger?: HttpBackendLogger;
  /** Receives inspection events of the http actor, the breaker and every retry actor. */
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
}

/** Options of one request: `fetch`'s own plus these. */
export interface HttpRequestInit extends Omit<RequestInit, 'signal'> {
  /** Timeout of each attempt. Default: the backend's `requestTimeoutMs`. */
  timeoutMs?: number;
  /** Retry policy name (`'sendLLMPrompt'`, …). Default: the backend's (`'fetch'`). */
  operation?: string;
  /** Aborting rejects at once with `signal.reason`; no further attempt is made. */
  signal?: AbortSignal;
  /** Called before each retry wait of this request, after the backend's own `retry.onRetry`. */
  onRetry?: (info: RetryInfo) => void;
}

/** `requestJson` also takes `json`: sent as the body (method POST unless given). */
export interface HttpJsonRequestInit extends HttpRequestInit {
  json?: unknown;
}

export interface HttpBackend extends Backend {
  readonly kind: 'http';
  /** Availability now: UNKNOWN, UP, DEGRADED, DOWN or STOPPED. */
  readonly state: HttpAvailability;
  request(path: string, init?: HttpRequestInit): Promise<HttpResponse>;
  requestJson<T = unknown>(path: string, init?: HttpJsonRequestInit): Promise<T>;
}

/** An error's message, at most 200 characters (for logs and `lastError`). */
export function shortMessage(error: unknown): string {
  const message = errorMessage(error);
  return message.length > 200 ? `${message.slice(0, 197)}...` : message;
}

/** Health status of each availability. */
export const httpHealthStatus: Record<HttpAvailability, HealthStatus> = {
  UP: 'pass',
  UNKNOWN: 'warn',
  DEGRADED: 'warn',
  DOWN: 'fail',
  STOPPED: 'fail',
};
