import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { errorMessage } from '../../../machines/error-message.js';

/** A call to an MCP upstream got no answer within the backend's `timeoutMs`. */
export class McpCallTimeoutError extends Error {
  override readonly name = 'McpCallTimeoutError';
  constructor(
    readonly backend: string,
    readonly tool: string,
    readonly timeoutMs: number,
  ) {
    super(`Backend "${backend}": tool "${tool}" did not answer within ${timeoutMs} ms`);
  }
}

/** The backend has no tool of that name (in its last known list). */
export class McpUnknownToolError extends Error {
  override readonly name = 'McpUnknownToolError';
  constructor(
    readonly backend: string,
    readonly tool: string,
  ) {
    super(`Backend "${backend}" has no tool "${tool}"`);
  }
}

/** Thrown inside a call its caller aborted: the breaker sees it as neither success nor failure. */
export class McpCallAbortedError extends Error {
  override readonly name = 'McpCallAbortedError';
}

/**
 * Whether an error means the upstream failed (counted by the breaker): timeouts, lost connections and
 * transport errors are; a JSON-RPC error answer (bad arguments, unknown tool) is the server answering.
 */
export function isUpstreamFailure(error: unknown): boolean {
  if (error instanceof McpCallAbortedError || error instanceof McpUnknownToolError) return false;
  if (error instanceof McpError)
    return error.code === ErrorCode.ConnectionClosed || error.code === ErrorCode.RequestTimeout;
  return true;
}

/** Whether a failed attempt of a safe (read-only / idempotent) tool may be retried. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof McpCallTimeoutError) return true;
  if (error instanceof McpError) return error.code === ErrorCode.RequestTimeout;
  return false;
}

/** `error`'s message, shortened. */
export function shortMessage(error: unknown): string {
  const message = errorMessage(error);
  return message.length > 300 ? `${message.slice(0, 297)}...` : message;
}
