/*
 * What a tool call answers: `ToolResult`, its error codes, and the passthrough form of a backend
 * tool's own MCP result. Imports: types only.
 */
import type { RemoteCallResult } from '../backends/kind.js';

/** The error codes of failed tool calls (the design's fixed list). */
export const ERROR_CODES = [
  'INVALID_INPUT',
  'BACKEND_UNAVAILABLE',
  'CIRCUIT_OPEN',
  'TIMEOUT',
  'QUEUE_FULL',
  'CANCELLED',
  'EXECUTION_FAILED',
] as const;

/**
 * Error codes of failed tool calls. An unknown tool name is answered `INVALID_INPUT` with
 * `field: 'name'`.
 */
export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * A tool's answer: its own fields on success, or `{ success: false, error, error_code }`. A tool
 * discovered from a backend answers with its own MCP result in `passthrough` (see `PassthroughResult`).
 */
export type ToolResult =
  | ({ success: true } & Record<string, unknown>)
  | {
      success: false;
      error: string;
      error_code: ErrorCode;
      field?: string;
      /**
       * With `CIRCUIT_OPEN` / `BACKEND_UNAVAILABLE` (and TIMEOUT from a Retry-After): milliseconds
       * after which a new call may be admitted — when the backend knows.
       */
      retry_after_ms?: number;
      /** A discovered tool's own result (`isError: true`), given unchanged to MCP clients. */
      passthrough?: RemoteCallResult;
    };

/** A failed `ToolResult`. */
export type ToolFailure = Extract<ToolResult, { success: false }>;

/**
 * A discovered tool's answer: the backend's MCP `CallToolResult` in `passthrough`, unchanged, and
 * `success` mirroring `!isError` (with `error` / `error_code: 'EXECUTION_FAILED'` when it is an error),
 * so callers that only read `success` still can. `toCallToolResult` returns `passthrough` as it is.
 */
export type PassthroughResult =
  | { success: true; passthrough: RemoteCallResult }
  | (ToolFailure & { passthrough: RemoteCallResult });

/** Whether `result` carries a backend tool's own MCP result. */
export function isPassthrough(result: ToolResult): result is PassthroughResult {
  const passthrough = (result as { passthrough?: unknown }).passthrough;
  return (
    typeof passthrough === 'object' &&
    passthrough !== null &&
    Array.isArray((passthrough as { content?: unknown }).content)
  );
}

/** The `ToolResult` for a backend tool's MCP result. */
export function passthroughResult(result: RemoteCallResult): PassthroughResult {
  if (!result.isError) return { success: true, passthrough: result };
  const text = result.content
    .map((block) => (block.type === 'text' && typeof block.text === 'string' ? block.text : ''))
    .filter(Boolean)
    .join('\n');
  return {
    success: false,
    error: text || 'the tool reported an error',
    error_code: 'EXECUTION_FAILED',
    passthrough: result,
  };
}
