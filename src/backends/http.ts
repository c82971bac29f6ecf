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
 * - Every failed attempt is sent to the machine (CALL_FAILED); a success (CALL_SUCCEEDED) only when it
 *   can change what the machine shows (availability, failure count, a latency more than 2× off the one
 *   shown); the breaker entering OPEN sends BREAKER_OPENED. The machine's `probe` actor GETs
 *   `probePath` through the same breaker (no retry: the next probe is the retry). One owner per
 *   probe: periodic probes are `probe()`, called by the bridge's health check; the breaker entering
 *   HALF_OPEN asks for one probe, its trial call when there is no traffic, so health shows recovery
 *   by itself.
 * - Timeouts run on the injected clock (`clock.setTimeout` per attempt; see http-transport.ts), never
 *   on `AbortSignal.timeout`. The attempt itself is http-transport.ts.
 * - A call aborted by its caller is not a failure of the backend: the breaker counts it as cancelled
 *   (neither success nor failure: it only frees a HALF_OPEN trial slot) and the machine is not told.
 *   One cut short by `stop()` is no failure either (the breaker, stopped by then, changes no state).
 */
import { createActor, fromPromise } from 'xstate';
import { type HttpAvailability, type HttpProbeOutput, httpMachine } from '../../machines/http.machine.js';
import { systemClock } from '../clock.js';
import { type CircuitBreaker, createCircuitBreaker } from '../reliability/breaker.js';
import { type RetryInfo, type RetryOptions, retry } from '../reliability/retry.js';
import { traceAttempts } from '../telemetry/tracing.js';
import { checkNumber } from '../validate.js';
import { createBackendThrottle } from './backend-throttle.js';
import { HttpBackendStoppedError, HttpStatusError } from './http-errors.js';
import {
  AttemptAbortedError,
  allowManyListeners,
  countsAsFailure,
  createTransport,
  isTransient,
  type PreparedRequest,
  splitBaseUrl,
} from './http-transport.js';
import {
  type FetchLike,
  type HttpBackend,
  type HttpBackendOptions,
  type HttpJsonRequestInit,
  type HttpRequestInit,
  type HttpResponse,
  httpHealthStatus,
  shortMessage,
} from './http-types.js';
import type { BackendHealth } from './types.js';

export { parseRetryAfter } from './http-transport.js';
export type {
  FetchLike,
  HttpBackend,
  HttpBackendLogger,
  HttpBackendOptions,
  HttpBreakerOptions,
  HttpJsonRequestInit,
  HttpRequestInit,
  HttpResponse,
  HttpRetryOptions,
} from './http-types.js';

const parseJson = <T>(response: HttpResponse): T => response.json<T>();

/**
 * Whether a success's latency moved far enough from the one the machine shows to tell it: more than
 * a factor 2 either way, every latency under 4 ms counting as 4. Fixed buckets would tell it of every
 * call that wanders across a bucket's edge (a ms clock reads a sub-ms call as 0 or 1, a loaded
 * machine's calls straddle 2 ms), and each time the bridge's health follows; measured from the shown
 * latency, a wander needs a real move to be told.
 */
function latencyMoved(shown: number | null, ms: number): boolean {
  if (shown === null) return true;
  const from = Math.max(shown, 4);
  const to = Math.max(ms, 4);
  return to > 2 * from || from > 2 * to;
}

/** Creates an HTTP backend; its actor runs at once (UNKNOWN), probing starts with `start()`. */
export function createHttpBackend(options: HttpBackendOptions): HttpBackend {
  const name = options.name;
  if (typeof name !== 'string' || name === '') throw new TypeError('createHttpBackend: name is required');
  const { base, baseQuery, basicAuth } = splitBaseUrl(options.baseUrl);
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
  allowManyListeners(stopController.signal);
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

  const throttle = createBackendThrottle(name, options.throttle, { clock, random });

  const breaker: CircuitBreaker = createCircuitBreaker({
    name,
    failureThreshold: options.breaker?.failureThreshold,
    ...(options.breaker?.rule ? { rule: options.breaker.rule } : {}),
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

  const transport = createTransport({
    name,
    base,
    baseQuery,
    headers: defaultHeaders,
    fetch: fetchImpl,
    clock,
    stopSignal: stopController.signal,
  });

  const stamp = (succeeded: boolean) => {
    lastCheckAt = clock.now();
    if (succeeded) lastSuccessAt = lastCheckAt;
    else lastErrorAt = lastCheckAt;
  };

  /** Longest wait the retry policy allows; a `Retry-After` beyond it holds the breaker OPEN instead. */
  const maxDelayMs = retryOptions.maxDelayMs ?? 30_000;
  /** The server asked callers to wait longer than a retry may: hold the breaker OPEN that long. */
  const honourLongRetryAfter = (error: unknown) => {
    const retryAfterMs = error instanceof HttpStatusError ? error.retryAfterMs : undefined;
    if (retryAfterMs !== undefined && retryAfterMs > maxDelayMs) breaker.holdOpen(retryAfterMs);
  };

  const probeRequest = transport.prepare(probePath, { method: 'GET' }, false);
  const machine = httpMachine.provide({
    actors: {
      probe: fromPromise<HttpProbeOutput>(async ({ signal }) => {
        try {
          const response = await breaker.execute(
            () => transport.exchange(probeRequest, probeTimeoutMs, signal, 1),
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
  /** Latency of the last success (call or probe); the machine's own copy moves by bucket only. */
  let latencyMs: number | null = null;
  let machineLatencyMs: number | null = null;
  actor.subscribe((snapshot) => {
    if (snapshot.context.latencyMs !== machineLatencyMs) {
      machineLatencyMs = snapshot.context.latencyMs;
      latencyMs = machineLatencyMs;
    }
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

  /**
   * Tells the machine that an attempt of a real call succeeded (or was answered with a caller's 4xx),
   * only when it can change something the machine shows: the availability (not UP yet, or failures
   * counted) or the latency, when it moved more than 2× from the one shown. The exact latency of the
   * last success is kept here for `status()`.
   */
  const reportSuccess = (callLatencyMs: number) => {
    if (stopController.signal.aborted) return;
    stamp(true);
    // A late success of a call admitted before the breaker opened must not show the backend UP.
    if (breaker.state === 'OPEN') {
      notify();
      return;
    }
    latencyMs = callLatencyMs;
    const { value, context } = actor.getSnapshot();
    if (
      value.availability !== 'UP' ||
      context.consecutiveFailures !== 0 ||
      latencyMoved(context.latencyMs, callLatencyMs)
    )
      actor.send({ type: 'CALL_SUCCEEDED', latencyMs: callLatencyMs });
  };
  const reportFailure = (error: unknown) => {
    if (stopController.signal.aborted) return;
    stamp(false);
    actor.send({ type: 'CALL_FAILED', error: shortMessage(error) });
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

  /**
   * The retry options of a request: one fixed shape, the backend's policy with the request's own:
   * `signal` (the caller's, else the stop signal) and `stopSignal` (the stop signal beside a caller's).
   */
  const retryOptionsOf = (
    operation: string,
    signal: AbortSignal,
    callerOnRetry?: (info: RetryInfo) => void,
    stopSignal?: AbortSignal,
  ): RetryOptions => ({
    operation,
    signal,
    stopSignal,
    maxRetries: retryOptions.maxRetries,
    baseDelayMs: retryOptions.baseDelayMs,
    maxDelayMs: retryOptions.maxDelayMs,
    jitter: retryOptions.jitter,
    metrics: retryOptions.metrics,
    budget: retryOptions.budget,
    inspect,
    shouldRetry: isTransient,
    clock,
    random,
    onRetry: callerOnRetry
      ? (info: RetryInfo) => {
          onRetry(info);
          callerOnRetry(info);
        }
      : onRetry,
  });
  /** Those of requests with no caller signal (they run under the stop signal), by operation. */
  const stopRetryOptions = new Map<string, RetryOptions>();
  const retryOptionsUnderStop = (operation: string): RetryOptions => {
    let options = stopRetryOptions.get(operation);
    if (!options) {
      options = retryOptionsOf(operation, stopController.signal);
      if (stopRetryOptions.size < 64) stopRetryOptions.set(operation, options);
    }
    return options;
  };
  const underStop = { signal: stopController.signal };

  /** After an attempt reached the backend: the throttle and the machine hear how it went. */
  const attemptSucceeded = (response: HttpResponse): HttpResponse => {
    throttle?.record(undefined);
    reportSuccess(response.latencyMs);
    return response;
  };
  const attemptFailed = (error: unknown): never => {
    if (!(error instanceof AttemptAbortedError)) throttle?.record(error);
    if (error instanceof HttpStatusError && !error.transient) reportSuccess(error.latencyMs);
    else if (countsAsFailure(error)) reportFailure(error);
    throw error;
  };
  const afterBreaker = (error: unknown): never => {
    honourLongRetryAfter(error);
    throw error;
  };
  /** One attempt: the throttle, then the breaker, then the exchange. */
  const attempt = (
    prepared: PreparedRequest,
    timeoutMs: number,
    index: number,
    signal: AbortSignal,
  ): Promise<HttpResponse> => {
    const throttled = throttle?.refusal(breaker.state === 'OPEN');
    if (throttled) return Promise.reject(throttled);
    return breaker
      .execute(
        () =>
          transport.exchange(prepared, timeoutMs, signal, index + 1).then(attemptSucceeded, attemptFailed),
        signal === stopController.signal ? underStop : { signal },
      )
      .catch(afterBreaker);
  };

  const send = (path: string, init: HttpJsonRequestInit, json: boolean): Promise<HttpResponse> => {
    if (stopController.signal.aborted) return Promise.reject(new HttpBackendStoppedError(name));
    const signal = init.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const timeoutMs =
      init.timeoutMs === undefined
        ? requestTimeoutMs
        : checkNumber('timeoutMs', init.timeoutMs, { positive: true });
    const operation = init.operation ?? defaultOperation;
    const prepared = transport.prepare(path, init, json);
    const attempts = traceAttempts(name, operation, (index: number, attemptSignal: AbortSignal) =>
      attempt(prepared, timeoutMs, index, attemptSignal),
    );
    // With no caller signal the request runs under the backend's stop signal; with one, under the
    // caller's, the stop signal beside it (retry watches both; each attempt's controller is aborted
    // by either): no controller of its own.
    if (!signal)
      return retry(
        attempts,
        init.onRetry
          ? retryOptionsOf(operation, stopController.signal, init.onRetry)
          : retryOptionsUnderStop(operation),
      );
    return retry(attempts, retryOptionsOf(operation, signal, init.onRetry, stopController.signal));
  };

  const request = (path: string, init: HttpRequestInit = {}): Promise<HttpResponse> =>
    send(path, init, false);
  const requestJson = <T>(path: string, init: HttpJsonRequestInit = {}): Promise<T> =>
    send(path, init, true).then(parseJson<T>);

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
      actor.send({ type: 'STOP' });
      actor.stop();
      breaker.stop();
      notify();
    },
    status(): BackendHealth {
      const { value, context } = actor.getSnapshot();
      return {
        kind: 'http',
        status: httpHealthStatus[value.availability],
        state: value.availability,
        breaker: breaker.state,
        consecutiveFailures: breaker.checkpoint().consecutiveFailures,
        lastCheckAt: lastCheckAt === null ? null : new Date(lastCheckAt).toISOString(),
        lastSuccessAt: lastSuccessAt === null ? null : new Date(lastSuccessAt).toISOString(),
        lastError: context.lastError,
        lastErrorAt: lastErrorAt === null ? null : new Date(lastErrorAt).toISOString(),
        latencyMs,
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
