/*
 * Errors of the HTTP backend. Messages name the backend, the method and the path without its query
 * string; they never contain header values, query strings or the base URL (which may carry credentials).
 */

/** A path as it may appear in messages: without query string or fragment. */
export function redactPath(path: string): string {
  const cut = path.search(/[?#]/);
  return cut === -1 ? path : path.slice(0, cut);
}

/** Whether an HTTP status is a failure of the backend (retried, counted by the breaker): 5xx and 429. */
export function isTransientStatus(status: number): boolean {
  return status >= 500 || status === 429;
}

/**
 * The backend answered with a status ≥ 400. 5xx and 429 are transient (`transient`: retried, a breaker
 * failure, `retryAfterMs` from `Retry-After`); any other 4xx is the caller's fault (not retried, and the
 * backend counts as answering).
 */
export class HttpStatusError extends Error {
  override readonly name = 'HttpStatusError';
  /** True for 5xx and 429. */
  readonly transient: boolean;
  constructor(
    readonly backend: string,
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly statusText: string,
    /** From `Retry-After` (seconds or HTTP date), when the answer had one; retry() honours it. */
    readonly retryAfterMs: number | undefined,
    /** The response body, at most 500 characters (for diagnostics; not part of the message). */
    readonly body: string,
    /** Time from sending the request to reading the whole answer, in ms. */
    readonly latencyMs: number,
  ) {
    const where = `${method} ${redactPath(path)}`;
    super(`HTTP ${status}${statusText ? ` ${statusText}` : ''} from "${backend}" ${where}`);
    this.path = redactPath(path);
    this.transient = isTransientStatus(status);
  }
}

/** No answer within the per-request (or probe) timeout. Transient. */
export class HttpTimeoutError extends Error {
  override readonly name = 'HttpTimeoutError';
  constructor(
    readonly backend: string,
    readonly method: string,
    readonly path: string,
    readonly timeoutMs: number,
  ) {
    super(`"${backend}" ${method} ${redactPath(path)} timed out after ${Math.round(timeoutMs)} ms`);
    this.path = redactPath(path);
  }
}

/**
 * The connection failed (refused, reset, DNS, TLS) before the answer's head arrived (`during:
 * 'request'`) or while its body was being read (`during: 'body'`). Transient.
 */
export class HttpNetworkError extends Error {
  override readonly name = 'HttpNetworkError';
  /** Node's error code when there is one (ECONNREFUSED, ECONNRESET, UND_ERR_SOCKET…). */
  readonly code: string | undefined;
  constructor(
    readonly backend: string,
    readonly method: string,
    readonly path: string,
    readonly during: 'request' | 'body',
    cause: unknown,
  ) {
    const code = networkCode(cause);
    super(
      `"${backend}" ${method} ${redactPath(path)}: ${during === 'body' ? 'connection lost while reading the body' : 'network error'}${code ? ` (${code})` : ''}`,
      { cause },
    );
    this.path = redactPath(path);
    this.code = code;
  }
}

/** The answer was not the JSON that `requestJson` expected. Not transient: the backend did answer. */
export class HttpInvalidJsonError extends Error {
  override readonly name = 'HttpInvalidJsonError';
  constructor(
    readonly backend: string,
    readonly method: string,
    readonly path: string,
    readonly status: number,
  ) {
    super(`"${backend}" ${method} ${redactPath(path)} answered ${status} with a body that is not JSON`);
    this.path = redactPath(path);
  }
}

/** The backend was stopped: its calls in flight and those made afterwards are rejected with this. */
export class HttpBackendStoppedError extends Error {
  override readonly name = 'HttpBackendStoppedError';
  constructor(readonly backend: string) {
    super(`HTTP backend "${backend}" is stopped`);
  }
}

/** Finds a Node/undici error code on an error or along its `cause` chain. */
function networkCode(error: unknown): string | undefined {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
