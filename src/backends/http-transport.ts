/*
 * The HTTP backend's transport: one attempt of a request (URL, headers, `fetch`, the whole body, a
 * timeout on the injected clock), with no breaker, retry or machine. `createHttpBackend` wraps it.
 *
 * Cost on the hot path (`npx tsx --expose-gc bench/bridge-split.ts` prints the split): the request is
 * prepared once (URL, method, headers merged with the backend's defaults, JSON body), never copied by
 * spread-then-add (a slow path of V8 on Node 20); per attempt, a copy of the headers, one clock timer
 * and an `AbortController` of its own while it is in flight (the fetch's signal, aborted by the
 * timeout, by `stop()` and by the caller's signal when there is one), taken from the idle ones that
 * earlier attempts gave back unaborted: making one costs ~3 µs on Node 20, and its garbage more.
 */
import type { Clock } from '../clock.js';
import { unwatchAbort, watchAbort } from '../reliability/abort-watch.js';
import {
  HttpBackendStoppedError,
  HttpInvalidJsonError,
  HttpNetworkError,
  HttpStatusError,
  HttpTimeoutError,
  isTransientStatus,
} from './http-errors.js';
import type { FetchLike, HttpJsonRequestInit, HttpResponse } from './http-types.js';

const ACCEPT_JSON = { accept: 'application/json' };
const JSON_HEADERS = { accept: 'application/json', 'content-type': 'application/json' };

/** `Retry-After` (delay in seconds or an HTTP date) in ms from `nowMs`; undefined when absent or invalid. */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil(at - nowMs));
}

/** Thrown inside an attempt aborted by its caller or by `stop()`; never reaches callers (retry rejects with the reason). */
export class AttemptAbortedError extends Error {
  override readonly name = 'AttemptAbortedError';
}

/** Header names in lower case, later entries winning: what `Headers` would send, as a plain object. */
export function headerRecord(...inits: (HeadersInit | undefined)[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const init of inits) {
    if (!init) continue;
    if (Array.isArray(init) || init instanceof Headers) {
      new Headers(init).forEach((value, key) => {
        out[key] = value;
      });
    } else {
      for (const key of Object.keys(init)) {
        const value = (init as Record<string, string>)[key];
        if (value !== undefined) out[key.toLowerCase()] = String(value);
      }
    }
  }
  return out;
}

export interface HttpTransportOptions {
  /** The backend's name, for errors. */
  name: string;
  /** Base URL without credentials, query nor trailing slash. */
  base: string;
  /** The base URL's query string (`?key=…`), appended after every path. */
  baseQuery: string;
  /** Sent with every request; a request's own headers override them. */
  headers: Record<string, string>;
  fetch: FetchLike;
  clock: Clock;
  /** The backend's stop signal: aborts every attempt in flight; no attempt starts after it. */
  stopSignal: AbortSignal;
}

/** A request as each of its attempts sends it, built once per request by {@link HttpTransport.prepare}. */
export interface PreparedRequest {
  /** The path as the caller gave it, for errors. */
  path: string;
  url: string;
  /** Upper case. */
  method: string;
  /** Copied for each attempt (a `fetch` may change the object it is given). */
  headers: Readonly<Record<string, string>>;
  body: RequestInit['body'] | undefined;
  /** The caller's other `RequestInit` fields (`redirect`, `cache`, …), when it gave any. */
  rest: RequestInit | undefined;
}

export interface HttpTransport {
  /**
   * The request `init` describes (`json`: `init.json` is the body, sent as JSON, POST unless a
   * method is given). The backend's own fields (`timeoutMs`, `operation`, `signal`, `onRetry`, `json`) stay out.
   */
  prepare(path: string, init: HttpJsonRequestInit, json: boolean): PreparedRequest;
  /**
   * One attempt of `request`: sends it and reads the whole body, under a timeout on the injected
   * clock. Resolves with any answer < 400 and rejects with `HttpStatusError` for ≥ 400; network errors
   * and timeouts become `HttpNetworkError` / `HttpTimeoutError`; an abort of `outer`,
   * `AttemptAbortedError`.
   */
  exchange(
    request: PreparedRequest,
    timeoutMs: number,
    outer: AbortSignal,
    attempts: number,
  ): Promise<HttpResponse>;
}

/** Fields of a request's init that are the backend's, not `fetch`'s, or that `prepare` sets itself. */
const OWN_FIELDS = new Set([
  'json',
  'timeoutMs',
  'operation',
  'signal',
  'onRetry',
  'method',
  'headers',
  'body',
]);

/** The caller's other `RequestInit` fields, or undefined when there are none (the usual case). */
function restOf(init: HttpJsonRequestInit): RequestInit | undefined {
  let rest: Record<string, unknown> | undefined;
  for (const key in init) {
    if (OWN_FIELDS.has(key) || !Object.hasOwn(init, key)) continue;
    rest ??= {};
    rest[key] = (init as Record<string, unknown>)[key];
  }
  return rest as RequestInit | undefined;
}

/** Idle controllers kept for later attempts, at most. */
const IDLE_CONTROLLERS = 64;
/** Attempts one controller serves: fewer than Node's 10 listeners per signal before it warns. */
const CONTROLLER_USES = 8;

/** A controller of the transport's pool, with the attempts it has served. */
interface Pooled {
  controller: AbortController;
  uses: number;
}

/** Makes the backend's transport: requests prepared once, then sent once per attempt. */
export function createTransport(options: HttpTransportOptions): HttpTransport {
  const { name, base, baseQuery, clock, stopSignal } = options;
  const fetchImpl = options.fetch;
  const defaultHeaders = headerRecord(options.headers);
  // The backend's headers merged with each kind of request's own, once: a request without headers
  // of its own uses one of these as it is (never changed: each attempt sends a copy). Not frozen:
  // V8 copies a frozen object ~5× slower.
  const plainHeaders: Readonly<Record<string, string>> = defaultHeaders;
  const acceptJson: Readonly<Record<string, string>> = headerRecord(defaultHeaders, ACCEPT_JSON);
  const sendJson: Readonly<Record<string, string>> = headerRecord(defaultHeaders, JSON_HEADERS);

  const urlOf = (path: string) => {
    const url = `${base}${path.startsWith('/') ? path : `/${path}`}`;
    if (!baseQuery) return url;
    return `${url}${url.includes('?') ? `&${baseQuery.slice(1)}` : baseQuery}`;
  };

  const prepare = (path: string, init: HttpJsonRequestInit, json: boolean): PreparedRequest => {
    const sendsJson = json && init.json !== undefined;
    const base = json ? (sendsJson ? sendJson : acceptJson) : plainHeaders;
    return {
      path,
      url: urlOf(path),
      method: (init.method ?? (sendsJson ? 'POST' : 'GET')).toUpperCase(),
      headers: init.headers ? headerRecord(base, init.headers) : base,
      body: sendsJson ? JSON.stringify(init.json) : (init.body ?? undefined),
      rest: restOf(init),
    };
  };

  /**
   * Every controller the transport holds, in flight or idle: `stop()` aborts them all. An attempt
   * takes an idle one (never aborted, no attempt on it) or makes one, and gives it back unless it
   * was aborted or has served {@link CONTROLLER_USES} attempts: a `fetch` may leave a listener on its
   * signal until its request is collected (undici does), so a signal used without end would gather
   * one per request.
   */
  const controllers = new Set<AbortController>();
  const idle: Pooled[] = [];
  const take = (): Pooled => {
    const reused = idle.pop();
    if (reused) return reused;
    const created: Pooled = { controller: new AbortController(), uses: 0 };
    controllers.add(created.controller);
    return created;
  };
  const giveBack = (pooled: Pooled) => {
    if (
      !pooled.controller.signal.aborted &&
      ++pooled.uses < CONTROLLER_USES &&
      idle.length < IDLE_CONTROLLERS
    )
      idle.push(pooled);
    else controllers.delete(pooled.controller);
  };
  watchAbort(stopSignal, () => {
    idle.length = 0;
    for (const controller of controllers) controller.abort(stopSignal.reason);
    controllers.clear();
  });

  const exchange = async (
    request: PreparedRequest,
    timeoutMs: number,
    outer: AbortSignal,
    attempts: number,
  ): Promise<HttpResponse> => {
    const { method, path } = request;
    if (outer.aborted || stopSignal.aborted) throw new AttemptAbortedError('aborted before the attempt');
    const startedAt = clock.now();
    const pooled = take();
    const { controller } = pooled;
    let timedOut = false;
    const timer = clock.setTimeout(() => {
      timedOut = true;
      controller.abort(new HttpTimeoutError(name, method, path, timeoutMs));
    }, timeoutMs);
    // The backend's stop signal reaches the attempt through `controllers`; a caller's, through a watcher.
    const watch = outer === stopSignal ? undefined : watchAbort(outer, () => controller.abort(outer.reason));
    let during: 'request' | 'body' = 'request';
    const headers = { ...request.headers };
    const init: RequestInit =
      request.body === undefined
        ? { method, headers, signal: controller.signal }
        : { method, headers, body: request.body, signal: controller.signal };
    if (request.rest) Object.assign(init, request.rest);
    try {
      const response = await fetchImpl(request.url, init);
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
      if (error instanceof HttpStatusError) throw error;
      if (timedOut) throw new HttpTimeoutError(name, method, path, timeoutMs);
      if (outer.aborted || stopSignal.aborted)
        throw new AttemptAbortedError('aborted during the attempt', { cause: error });
      throw new HttpNetworkError(name, method, path, during, error);
    } finally {
      clock.clearTimeout(timer);
      if (watch) unwatchAbort(outer, watch);
      giveBack(pooled);
    }
  };

  return { prepare, exchange };
}

/**
 * Node warns past 10 listeners on one signal; the backend's stop signal has one per request in flight.
 * No limit is spelt `Infinity`, not 0: on Node 20 `getMaxListeners` throws for a signal set to 0, and
 * undici reads it for every request's signal (it catches the error, but builds one each time).
 */
export function allowManyListeners(signal: AbortSignal): void {
  const events = (
    globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }
  ).process?.getBuiltinModule?.('node:events') as
    | { setMaxListeners?: (n: number, ...targets: EventTarget[]) => void }
    | undefined;
  events?.setMaxListeners?.(Number.POSITIVE_INFINITY, signal);
}

/** Retry's view: network errors, timeouts, 5xx and 429 are worth another attempt. */
export function isTransient(error: unknown): boolean {
  if (error instanceof HttpStatusError) return error.transient;
  return error instanceof HttpTimeoutError || error instanceof HttpNetworkError;
}

/** Breaker's view: transient errors and anything unexpected are failures; caller's 4xx and aborts are not. */
export function countsAsFailure(error: unknown): boolean {
  if (error instanceof HttpStatusError) return error.transient;
  return !(error instanceof AttemptAbortedError || error instanceof HttpBackendStoppedError);
}

/**
 * Splits a base URL: userinfo (`http://user:pass@host`) becomes a Basic `Authorization` value
 * (`fetch` refuses URLs with credentials, and its error would carry the password); a query string
 * (`?key=…`) is kept apart, to follow every request's path.
 */
export function splitBaseUrl(baseUrl: string): { base: string; baseQuery: string; basicAuth?: string } {
  const parsed = new URL(baseUrl);
  const basicAuth =
    parsed.username || parsed.password
      ? `Basic ${btoa(`${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`)}`
      : undefined;
  const baseQuery = parsed.search;
  parsed.username = '';
  parsed.password = '';
  parsed.search = '';
  parsed.hash = '';
  return { base: parsed.href.replace(/\/+$/, ''), baseQuery, ...(basicAuth ? { basicAuth } : {}) };
}
