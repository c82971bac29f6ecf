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
 *   can change what the machine shows (availability, failure count, latency bucket); the breaker
 *   entering OPEN sends BREAKER_OPENED. The machine's `probe` actor GETs `probePath` through the same breaker
 *   (no retry: the next probe is the retry). One owner per probe: periodic probes are `probe()`,
 *   called by the bridge's health check; the breaker entering HALF_OPEN asks for one probe, its trial
 *   call when there is no traffic, so health shows recovery by itself.
 * - Timeouts run on the injected clock (one AbortController per attempt and `clock.setTimeout`), never
 *   on `AbortSignal.timeout`. The attempt itself is http-transport.ts.
 * - A call aborted by its caller (or by `stop()`) is not a failure of the backend: the breaker counts it
 *   as cancelled (neither success nor failure: it only frees a HALF_OPEN trial slot) and the machine is
 *   not told.
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
  createExchange,
  isTransient,
  jsonRequestInit,
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

/** Latency buckets (powers of two of ms): the machine hears of a success in UP only when it moves bucket. */
function latencyBucket(ms: number | null): number {
  return ms === null ? -1 : ms < 1 ? 0 : 1 + Math.floor(Math.log2(ms));
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
  /** Controllers of the attempts (and caller-linked requests) in flight, aborted by `stop()`. */
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

  const throttle = createBackendThrottle(name, options.throttle, { clock, random });

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

  const exchange = createExchange({
    name,
    base,
    baseQuery,
    headers: defaultHeaders,
    fetch: fetchImpl,
    clock,
    stopSignal: stopController.signal,
    inFlight,
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
   * Tells the machine how one attempt of a real call went. A success is sent only when it can change
   * something the machine shows: the availability (not UP yet, or failures counted) or the latency
   * bucket. The exact latency of the last success is kept here for `status()`.
   */
  const report = (outcome: { latencyMs: number } | { error: unknown }) => {
    if (stopController.signal.aborted) return;
    if ('latencyMs' in outcome) {
      stamp(true);
      // A late success of a call admitted before the breaker opened must not show the backend UP.
      if (breaker.state === 'OPEN') {
        notify();
        return;
      }
      latencyMs = outcome.latencyMs;
      const { value, context } = actor.getSnapshot();
      if (
        value.availability !== 'UP' ||
        context.consecutiveFailures !== 0 ||
        latencyBucket(context.latencyMs) !== latencyBucket(outcome.latencyMs)
      )
        actor.send({ type: 'CALL_SUCCEEDED', latencyMs: outcome.latencyMs });
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

  /** The retry options every request shares, built once. */
  const retryPolicy: RetryOptions = {
    ...(retryOptions.maxRetries === undefined ? {} : { maxRetries: retryOptions.maxRetries }),
    ...(retryOptions.baseDelayMs === undefined ? {} : { baseDelayMs: retryOptions.baseDelayMs }),
    ...(retryOptions.maxDelayMs === undefined ? {} : { maxDelayMs: retryOptions.maxDelayMs }),
    ...(retryOptions.jitter === undefined ? {} : { jitter: retryOptions.jitter }),
    ...(retryOptions.metrics ? { metrics: retryOptions.metrics } : {}),
    ...(retryOptions.budget ? { budget: retryOptions.budget } : {}),
    ...(inspect ? { inspect } : {}),
    shouldRetry: isTransient,
    clock,
    random,
    onRetry,
  };

  const request = (path: string, init: HttpRequestInit = {}): Promise<HttpResponse> => {
    const { timeoutMs, operation, signal, onRetry: callerOnRetry, ...fetchInit } = init;
    if (stopController.signal.aborted) return Promise.reject(new HttpBackendStoppedError(name));
    if (signal?.aborted) return Promise.reject(signal.reason);
    const attemptTimeoutMs =
      timeoutMs === undefined ? requestTimeoutMs : checkNumber('timeoutMs', timeoutMs, { positive: true });
    // With no caller signal the request runs under the backend's stop signal; with one, under a
    // controller aborted by either (kept in `inFlight` rather than as a listener of the stop signal).
    let requestSignal = stopController.signal;
    let cleanUp: (() => void) | undefined;
    if (signal) {
      const controller = new AbortController();
      const onCallerAbort = () => controller.abort(signal.reason);
      signal.addEventListener('abort', onCallerAbort, { once: true });
      inFlight.add(controller);
      requestSignal = controller.signal;
      cleanUp = () => {
        signal.removeEventListener('abort', onCallerAbort);
        inFlight.delete(controller);
      };
    }
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
    const result = retry(traceAttempts(name, operation ?? defaultOperation, attempt), {
      ...retryPolicy,
      operation: operation ?? defaultOperation,
      signal: requestSignal,
      ...(callerOnRetry && {
        onRetry: (info: RetryInfo) => {
          onRetry(info);
          callerOnRetry(info);
        },
      }),
    });
    if (!cleanUp) return result;
    const done = cleanUp;
    return result.then(
      (response) => {
        done();
        return response;
      },
      (error: unknown) => {
        done();
        throw error;
      },
    );
  };

  const requestJson = async <T>(path: string, init: HttpJsonRequestInit = {}): Promise<T> =>
    (await request(path, jsonRequestInit(init))).json<T>();

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
