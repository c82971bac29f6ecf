/*
 * An HTTP backend (an OpenAI-compatible LM Studio server, say): `httpMachine` for availability, its own
 * circuit breaker and `retry()` for calls.
 *
 * - `request()` runs each attempt through this backend's breaker inside `retry()`. An attempt sends the
 *   request and reads the whole body, so a connection lost mid-body is a failed attempt and is retried.
 *   Network errors, timeouts, 5xx and 429 are failures (retried, counted by the breaker; `Retry-After`
 *   is honoured through the error's `retryAfterMs`). Other 4xx reject with `HttpStatusError` at once and
 *   count as the backend answering. A `Retry-After` longer than the retry policy's `maxDelayMs` stops
 *   retrying at once and holds the breaker OPEN for that long (`breaker.holdOpen`, capped by
 *   `breaker.maxHoldOpenMs`): the next caller is refused without reaching the server.
 * - Every attempt's outcome is sent to the machine (CALL_SUCCEEDED / CALL_FAILED); the breaker entering
 *   OPEN sends BREAKER_OPENED. The machine's `probe` actor GETs `probePath` through the same breaker
 *   (no retry: the next probe is the retry). One owner per probe: periodic probes are `probe()`,
 *   called by the bridge's health check; the breaker entering HALF_OPEN asks for one probe, its trial
 *   call when there is no traffic, so health shows recovery by itself.
 * - Timeouts run on the injected clock (an AbortController and `clock.setTimeout`), never on
 *   `AbortSignal.timeout`.
 * - A call aborted by its caller (or by `stop()`) is not a failure of the backend: the breaker counts it
 *   as cancelled (neither success nor failure: it only frees a HALF_OPEN trial slot) and the machine is
 *   not told.
 */
import { createActor, fromPromise, type InspectionEvent, type Observer } from 'xstate';
import { type HttpAvailability, type HttpProbeOutput, httpMachine } from '../../machines/http.machine.js';
import { type Clock, systemClock } from '../clock.js';
import {
  type CircuitBreaker,
  type CircuitBreakerOptions,
  createCircuitBreaker,
} from '../reliability/breaker.js';
import { type RetryInfo, retry } from '../reliability/retry.js';
import type { RetryBudget } from '../reliability/retry-budget.js';
import type { RetryMetrics } from '../reliability/retry-metrics.js';
import { checkNumber } from '../validate.js';
import { type BackendThrottleConfig, createBackendThrottle } from './backend-throttle.js';
import {
  HttpBackendStoppedError,
  HttpInvalidJsonError,
  HttpNetworkError,
  HttpStatusError,
  HttpTimeoutError,
  isTransientStatus,
} from './http-errors.js';
import type { Backend, BackendHealth, HealthStatus } from './types.js';

/** The subset of `fetch` the backend uses; inject one for tests or instrumentation. */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

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
   * `false` to turn it off. On by default (k 2, one minute).
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
}

/** `requestJson` also takes `json`: sent as the body (method POST unless given). */
export interface HttpJsonRequestInit extends HttpRequestInit {
  json?: unknown;
}

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

export interface HttpBackend extends Backend {
  readonly kind: 'http';
  /** Availability now: UNKNOWN, UP, DEGRADED, DOWN or STOPPED. */
  readonly state: HttpAvailability;
  request(path: string, init?: HttpRequestInit): Promise<HttpResponse>;
  requestJson<T = unknown>(path: string, init?: HttpJsonRequestInit): Promise<T>;
}

/** `Retry-After` (delay in seconds or an HTTP date) in ms from `nowMs`; undefined when absent or invalid. */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil(at - nowMs));
}

/** Thrown inside an attempt aborted by its caller or by `stop()`; never reaches callers (retry rejects with the reason). */
class AttemptAbortedError extends Error {
  override readonly name = 'AttemptAbortedError';
}

function isTransient(error: unknown): boolean {
  if (error instanceof HttpStatusError) return error.transient;
  return error instanceof HttpTimeoutError || error instanceof HttpNetworkError;
}

/** Breaker's view: transient errors and anything unexpected are failures; caller's 4xx and aborts are not. */
function countsAsFailure(error: unknown): boolean {
  if (error instanceof HttpStatusError) return error.transient;
  return !(error instanceof AttemptAbortedError || error instanceof HttpBackendStoppedError);
}

function shortMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.length > 200 ? `${message.slice(0, 197)}...` : message;
}

const statusOf: Record<HttpAvailability, HealthStatus> = {
  UP: 'pass',
  UNKNOWN: 'warn',
  DEGRADED: 'warn',
  DOWN: 'fail',
  STOPPED: 'fail',
};

/** Creates an HTTP backend; its actor runs at once (UNKNOWN), probing starts with `start()`. */
export function createHttpBackend(options: HttpBackendOptions): HttpBackend {
  const name = options.name;
  if (typeof name !== 'string' || name === '') throw new TypeError('createHttpBackend: name is required');
  // Userinfo (`http://user:pass@host`) becomes a Basic `Authorization` header: `fetch` refuses URLs
  // with credentials, and its error would carry the URL, password included. A query string
  // (`?key=…`) stays after the request's path.
  const parsedBase = new URL(options.baseUrl);
  const basicAuth =
    parsedBase.username || parsedBase.password
      ? `Basic ${btoa(`${decodeURIComponent(parsedBase.username)}:${decodeURIComponent(parsedBase.password)}`)}`
      : undefined;
  const baseQuery = parsedBase.search;
  parsedBase.username = '';
  parsedBase.password = '';
  parsedBase.search = '';
  parsedBase.hash = '';
  const base = parsedBase.href.replace(/\/+$/, '');
  const probePath = options.probePath ?? '/models';
  if (options.probeIntervalMs !== undefined)
    checkNumber('probeIntervalMs', options.probeIntervalMs, { positive: true });
  const probeTimeoutMs = checkNumber('probeTimeoutMs', options.probeTimeoutMs ?? 2_000, { positive: true });
  const requestTimeoutMs = checkNumber('requestTimeoutMs', options.requestTimeoutMs ?? 60_000, {
    positive: true,
  });
  const downAfterFailures = checkNumber('downAfterFailures', options.downAfterFailures ?? 3, {
    positive: true,
  });
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const fetchImpl: FetchLike = options.fetch ?? ((url, init) => globalThis.fetch(url, init));
  const defaultHeaders: Record<string, string> = { ...(options.headers ?? {}) };
  if (basicAuth && !Object.keys(defaultHeaders).some((key) => key.toLowerCase() === 'authorization'))
    defaultHeaders.authorization = basicAuth;
  const retryOptions = options.retry ?? {};
  const defaultOperation = retryOptions.operation ?? 'fetch';
  const logger = options.logger;
  const inspect = options.inspect;
  const critical = options.critical ?? false;

  const stopController = new AbortController();
  /** Controllers of the requests in flight, aborted by `stop()`. */
  const inFlight = new Set<AbortController>();
  let lastCheckAt: number | null = null;
  let lastSuccessAt: number | null = null;
  let lastErrorAt: number | null = null;
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const listener of [...listeners]) {
      try {
        listener();
      } catch (error) {
        logger?.error?.(`http backend "${name}": a status listener threw`, { error: shortMessage(error) });
      }
    }
  };

  const breaker: CircuitBreaker = createCircuitBreaker({
    name,
    failureThreshold: options.breaker?.failureThreshold,
    resetTimeoutMs: options.breaker?.resetTimeoutMs,
    halfOpenMaxCalls: options.breaker?.halfOpenMaxCalls,
    successThreshold: options.breaker?.successThreshold,
    resetJitter: options.breaker?.resetJitter ?? 0.2,
    ...(options.breaker?.restore ? { restore: options.breaker.restore } : {}),
    ...(options.breaker?.maxHoldOpenMs === undefined ? {} : { maxHoldOpenMs: options.breaker.maxHoldOpenMs }),
    random,
    clock,
    isFailure: countsAsFailure,
    ...(inspect ? { inspect } : {}),
  });

  const throttle = createBackendThrottle(name, options.throttle, { clock, random });

  const urlOf = (path: string) => {
    const url = `${base}${path.startsWith('/') ? path : `/${path}`}`;
    if (!baseQuery) return url;
    return `${url}${url.includes('?') ? `&${baseQuery.slice(1)}` : baseQuery}`;
  };

  const headersOf = (extra: HeadersInit | undefined): Headers => {
    const headers = new Headers(defaultHeaders);
    if (extra) for (const [key, value] of new Headers(extra)) headers.set(key, value);
    return headers;
  };

  /**
   * One attempt: sends the request and reads the whole body, under a timeout on the injected clock.
   * Resolves with any answer < 400 and rejects with `HttpStatusError` for ≥ 400; network errors and
   * timeouts become `HttpNetworkError` / `HttpTimeoutError`; an abort of `outer`, `AttemptAbortedError`.
   */
  const exchange = async (
    path: string,
    init: RequestInit,
    timeoutMs: number,
    outer: AbortSignal,
    attempts: number,
  ): Promise<HttpResponse> => {
    const method = (init.method ?? 'GET').toUpperCase();
    if (outer.aborted) throw new AttemptAbortedError('aborted before the attempt');
    const controller = new AbortController();
    let timedOut = false;
    const timer = clock.setTimeout(() => {
      timedOut = true;
      controller.abort(new HttpTimeoutError(name, method, path, timeoutMs));
    }, timeoutMs);
    const onAbort = () => controller.abort(outer.reason);
    outer.addEventListener('abort', onAbort, { once: true });
    const startedAt = clock.now();
    let during: 'request' | 'body' = 'request';
    try {
      const response = await fetchImpl(urlOf(path), {
        ...init,
        method,
        headers: headersOf(init.headers),
        signal: controller.signal,
      });
      during = 'body';
      const text = await response.text();
      if (timedOut) throw new HttpTimeoutError(name, method, path, timeoutMs);
      const latencyMs = clock.now() - startedAt;
      if (response.status >= 400) {
        const retryAfterMs = isTransientStatus(response.status)
          ? parseRetryAfter(response.headers.get('retry-after'), clock.now())
          : undefined;
        throw new HttpStatusError(
          name,
          method,
          path,
          response.status,
          response.statusText,
          retryAfterMs,
          text.slice(0, 500),
          latencyMs,
        );
      }
      return {
        status: response.status,
        statusText: response.statusText,
        ok: response.ok,
        headers: response.headers,
        text,
        json<T>() {
          try {
            return JSON.parse(text) as T;
          } catch {
            throw new HttpInvalidJsonError(name, method, path, response.status);
          }
        },
        latencyMs,
        attempts,
      };
    } catch (error) {
      if (error instanceof HttpStatusError || error instanceof HttpTimeoutError) throw error;
      if (timedOut) throw new HttpTimeoutError(name, method, path, timeoutMs);
      if (outer.aborted) throw new AttemptAbortedError('aborted during the attempt', { cause: error });
      throw new HttpNetworkError(name, method, path, during, error);
    } finally {
      clock.clearTimeout(timer);
      outer.removeEventListener('abort', onAbort);
    }
  };

  const stamp = (succeeded: boolean) => {
    lastCheckAt = clock.now();
    if (succeeded) lastSuccessAt = lastCheckAt;
    else lastErrorAt = lastCheckAt;
  };

  /** Longest wait the retry policy allows; a `Retry-After` beyond it holds the breaker OPEN instead. */
  const maxDelayMs = retryOptions.maxDelayMs ?? 30_000;
  /** The server asked callers to wait longer than a retry may: hold the breaker OPEN that long. */
  const honourLongRetryAfter = (error: unknown) => {
    if (
      error instanceof HttpStatusError &&
      error.retryAfterMs !== undefined &&
      error.retryAfterMs > maxDelayMs
    )
      breaker.holdOpen(error.retryAfterMs);
  };

  const machine = httpMachine.provide({
    actors: {
      probe: fromPromise<HttpProbeOutput>(async ({ signal }) => {
        try {
          const response = await breaker.execute(
            () => exchange(probePath, { method: 'GET' }, probeTimeoutMs, signal, 1),
            { signal },
          );
          stamp(true);
          return { latencyMs: response.latencyMs };
        } catch (error) {
          if (error instanceof HttpStatusError && !error.transient) {
            stamp(true); // the backend answered
            return { latencyMs: error.latencyMs };
          }
          if (!(error instanceof AttemptAbortedError)) stamp(false);
          honourLongRetryAfter(error);
          throw error;
        }
      }),
    },
  });

  const actor = createActor(machine, {
    input: { downAfterFailures },
    clock,
    ...(inspect ? { inspect } : {}),
  });
  let availability: HttpAvailability = 'UNKNOWN';
  actor.subscribe((snapshot) => {
    const next = snapshot.value.availability;
    if (next !== availability) {
      const log = next === 'UP' || next === 'STOPPED' ? logger?.info : logger?.warn;
      log?.(`http backend "${name}": ${availability} → ${next}`, {
        backend: name,
        from: availability,
        to: next,
        lastError: snapshot.context.lastError,
      });
      availability = next;
    }
    notify();
  });
  actor.start();

  breaker.onTransition(({ from, to }) => {
    logger?.debug?.(`http backend "${name}": breaker ${from} → ${to}`, { backend: name, from, to });
    if (to === 'OPEN') actor.send({ type: 'BREAKER_OPENED' });
    // The HALF_OPEN trial is the breaker's: with no traffic, a probe is the trial call.
    else if (to === 'HALF_OPEN' && actor.getSnapshot().value.prober !== 'idle')
      actor.send({ type: 'PROBE_NOW' });
    notify();
  });

  /** Tells the machine how one attempt of a real call went. */
  const report = (outcome: { latencyMs: number } | { error: unknown }) => {
    if (stopController.signal.aborted) return;
    if ('latencyMs' in outcome) {
      stamp(true);
      // A late success of a call admitted before the breaker opened must not show the backend UP.
      if (breaker.state !== 'OPEN') actor.send({ type: 'CALL_SUCCEEDED', latencyMs: outcome.latencyMs });
      else notify();
    } else {
      stamp(false);
      actor.send({ type: 'CALL_FAILED', error: shortMessage(outcome.error) });
    }
  };

  const onRetry = (info: RetryInfo) => {
    logger?.warn?.(`http backend "${name}": retrying ${info.operation} in ${Math.round(info.delayMs)} ms`, {
      backend: name,
      operation: info.operation,
      attempt: info.attempt,
      delayMs: info.delayMs,
      error: shortMessage(info.error),
    });
    retryOptions.onRetry?.(info);
  };

  const request = (path: string, init: HttpRequestInit = {}): Promise<HttpResponse> => {
    const { timeoutMs, operation, signal, ...fetchInit } = init;
    if (stopController.signal.aborted) return Promise.reject(new HttpBackendStoppedError(name));
    if (signal?.aborted) return Promise.reject(signal.reason);
    const attemptTimeoutMs =
      timeoutMs === undefined ? requestTimeoutMs : checkNumber('timeoutMs', timeoutMs, { positive: true });
    const controller = new AbortController();
    const onCallerAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onCallerAbort, { once: true });
    // Kept in a set rather than as listeners of the stop signal: Node warns past 10 listeners.
    inFlight.add(controller);
    const cleanUp = () => {
      signal?.removeEventListener('abort', onCallerAbort);
      inFlight.delete(controller);
    };
    const attempt = (index: number, attemptSignal: AbortSignal) => {
      const throttled = throttle?.refusal(breaker.state === 'OPEN');
      if (throttled) return Promise.reject(throttled);
      return breaker
        .execute(
          async () => {
            try {
              const response = await exchange(path, fetchInit, attemptTimeoutMs, attemptSignal, index + 1);
              throttle?.record(undefined);
              report({ latencyMs: response.latencyMs });
              return response;
            } catch (error) {
              if (!(error instanceof AttemptAbortedError)) throttle?.record(error);
              if (error instanceof HttpStatusError && !error.transient)
                report({ latencyMs: error.latencyMs });
              else if (countsAsFailure(error)) report({ error });
              throw error;
            }
          },
          { signal: attemptSignal },
        )
        .catch((error: unknown) => {
          honourLongRetryAfter(error);
          throw error;
        });
    };
    const result = retry(attempt, {
      operation: operation ?? defaultOperation,
      ...(retryOptions.maxRetries === undefined ? {} : { maxRetries: retryOptions.maxRetries }),
      ...(retryOptions.baseDelayMs === undefined ? {} : { baseDelayMs: retryOptions.baseDelayMs }),
      ...(retryOptions.maxDelayMs === undefined ? {} : { maxDelayMs: retryOptions.maxDelayMs }),
      ...(retryOptions.jitter === undefined ? {} : { jitter: retryOptions.jitter }),
      ...(retryOptions.metrics ? { metrics: retryOptions.metrics } : {}),
      ...(retryOptions.budget ? { budget: retryOptions.budget } : {}),
      ...(inspect ? { inspect } : {}),
      shouldRetry: isTransient,
      signal: controller.signal,
      clock,
      random,
      onRetry,
    });
    return result.then(
      (response) => {
        cleanUp();
        return response;
      },
      (error: unknown) => {
        cleanUp();
        throw error;
      },
    );
  };

  const requestJson = async <T>(path: string, init: HttpJsonRequestInit = {}): Promise<T> => {
    const { json, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (!headers.has('accept')) headers.set('accept', 'application/json');
    let body = rest.body;
    let method = rest.method;
    if (json !== undefined) {
      body = JSON.stringify(json);
      method ??= 'POST';
      if (!headers.has('content-type')) headers.set('content-type', 'application/json');
    }
    const response = await request(path, { ...rest, headers, body, ...(method ? { method } : {}) });
    return response.json<T>();
  };

  const probe = (): Promise<void> => {
    if (stopController.signal.aborted) return Promise.resolve();
    actor.send({ type: 'PROBE_NOW' });
    if (actor.getSnapshot().value.prober !== 'probing') return Promise.resolve();
    return new Promise<void>((resolve) => {
      const subscription = actor.subscribe({
        next: (snapshot) => {
          if (snapshot.value.prober === 'probing') return;
          subscription.unsubscribe();
          resolve();
        },
        complete: () => resolve(),
        error: () => resolve(),
      });
    });
  };

  const backend: HttpBackend = {
    name,
    kind: 'http',
    breaker,
    actor,
    get state() {
      return actor.getSnapshot().value.availability;
    },
    start() {
      if (!stopController.signal.aborted) actor.send({ type: 'START' });
    },
    async stop() {
      if (stopController.signal.aborted) return;
      stopController.abort(new HttpBackendStoppedError(name));
      for (const controller of inFlight) controller.abort(stopController.signal.reason);
      inFlight.clear();
      actor.send({ type: 'STOP' });
      actor.stop();
      breaker.stop();
      notify();
    },
    status(): BackendHealth {
      const { value, context } = actor.getSnapshot();
      return {
        kind: 'http',
        status: statusOf[value.availability],
        state: value.availability,
        breaker: breaker.state,
        consecutiveFailures: breaker.actor.getSnapshot().context.consecutiveFailures,
        lastCheckAt: lastCheckAt === null ? null : new Date(lastCheckAt).toISOString(),
        lastSuccessAt: lastSuccessAt === null ? null : new Date(lastSuccessAt).toISOString(),
        lastError: context.lastError,
        lastErrorAt: lastErrorAt === null ? null : new Date(lastErrorAt).toISOString(),
        latencyMs: context.latencyMs,
        critical,
        ...throttle?.state(),
      };
    },
    probe,
    subscribe(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    request,
    requestJson,
  };
  return backend;
}
