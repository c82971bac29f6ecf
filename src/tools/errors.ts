/*
 * How failures become tool results. Errors are recognised by `name` (not `instanceof`), so that copies
 * of the package loaded twice still map the same way.
 */
import type { z } from 'zod';
import { errorMessage } from '../../machines/error-message.js';
import type { ErrorCode, ToolFailure } from './result.js';

type Failure = ToolFailure;

export { BackendUnavailableError } from '../backends/errors.js';

/** A backend answered, but reported that the operation failed (`success: false` in its reply). */
export class ToolExecutionError extends Error {
  override readonly name = 'ToolExecutionError';
}

const BY_NAME: Record<string, ErrorCode> = {
  BrokenCircuitError: 'CIRCUIT_OPEN',
  // Rejected locally by the backend's adaptive throttle: a fast fail like an open circuit.
  ThrottledError: 'CIRCUIT_OPEN',
  QueueFullError: 'QUEUE_FULL',
  RequestTimeoutError: 'TIMEOUT',
  HttpTimeoutError: 'TIMEOUT',
  TimeoutError: 'TIMEOUT',
  ConnectionLostError: 'BACKEND_UNAVAILABLE',
  BackendStoppedError: 'BACKEND_UNAVAILABLE',
  BackendUnavailableError: 'BACKEND_UNAVAILABLE',
  HttpBackendStoppedError: 'BACKEND_UNAVAILABLE',
  HttpNetworkError: 'BACKEND_UNAVAILABLE',
  BreakerStoppedError: 'BACKEND_UNAVAILABLE',
  AbortError: 'CANCELLED',
  // Discovered tools (MCP upstreams, WebMCP pages).
  McpCallTimeoutError: 'TIMEOUT',
  McpUnknownToolError: 'INVALID_INPUT',
  WebMcpPageNavigatedError: 'BACKEND_UNAVAILABLE',
  WebMcpToolNotFoundError: 'INVALID_INPUT',
  WebMcpWriteRefusedError: 'EXECUTION_FAILED',
  PlaywrightMissingError: 'BACKEND_UNAVAILABLE',
};

/** Errors about the tool's name rather than its arguments: answered with `field: 'name'`. */
const NAME_ERRORS = new Set(['McpUnknownToolError', 'WebMcpToolNotFoundError']);

/** The error code of a failure thrown by a tool handler. */
export function errorCodeOf(error: unknown): ErrorCode {
  const name = (error as { name?: unknown } | null)?.name;
  if (typeof name === 'string') {
    if (name === 'HttpStatusError') {
      // 5xx / 429: the backend is failing; another 4xx: the request was refused.
      return (error as { transient?: boolean }).transient ? 'BACKEND_UNAVAILABLE' : 'EXECUTION_FAILED';
    }
    const code = BY_NAME[name];
    if (code) return code;
  }
  return 'EXECUTION_FAILED';
}

/** The answer to a call its caller cancelled (aborted its `signal`). */
export function cancelled(signal: AbortSignal): Failure {
  const reason = signal.reason as { message?: unknown } | undefined;
  const detail = typeof reason?.message === 'string' && reason.message ? `: ${reason.message}` : '';
  return { success: false, error: `The call was cancelled${detail}`, error_code: 'CANCELLED' };
}

/**
 * `{ success: false, error, error_code }` for an error thrown by a tool handler, with `field: 'name'`
 * for an unknown tool of a backend and `retry_after_ms` when the error says when to try again (an
 * OPEN breaker's `retryAfterMs`, a restarting upstream's backoff, an HTTP Retry-After).
 */
export function toolFailure(error: unknown): Failure {
  const failure: Failure = { success: false, error: errorMessage(error), error_code: errorCodeOf(error) };
  const name = (error as { name?: unknown } | null)?.name;
  if (typeof name === 'string' && NAME_ERRORS.has(name)) failure.field = 'name';
  const retryAfterMs = (error as { retryAfterMs?: unknown } | null)?.retryAfterMs;
  if (typeof retryAfterMs === 'number' && Number.isFinite(retryAfterMs) && retryAfterMs >= 0)
    failure.retry_after_ms = Math.ceil(retryAfterMs);
  return failure;
}

/** A dotted path (`region.width`, `include.0`); `(arguments)` for the arguments object itself. */
export function fieldPath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '(arguments)' : path.map(String).join('.');
}

/** `INVALID_INPUT` naming the first field at fault (every issue is listed in `error`). */
export function invalidInput(error: z.ZodError): Failure {
  const issues = error.issues;
  const first = issues[0];
  const field = first ? fieldPath(first.path) : '(arguments)';
  const error_ = issues.map((issue) => `${fieldPath(issue.path)}: ${issue.message}`).join('; ');
  return { success: false, error: error_ || 'invalid arguments', error_code: 'INVALID_INPUT', field };
}
