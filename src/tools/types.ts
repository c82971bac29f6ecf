/*
 * The types of tools: a tool's definition and handler context, its descriptor as the surfaces list
 * it, and the view of the bridge the built-in tools get. Imports: types only (backends, clock,
 * reliability); never `../bridge/` (the bridge composes tools, not the other way round).
 */
import type { z } from 'zod';
import type { ToolAnnotations } from '../backends/kind.js';
import type { Backend, HealthReport } from '../backends/types.js';
import type { Clock } from '../clock.js';
import type { RetryInfo } from '../reliability/retry.js';
import type { RetryMetrics } from '../reliability/retry-metrics.js';
import type { A2ALedger } from './a2a-ledger.js';

/** The zod object a tool's arguments are validated with. */
export type ToolInputSchema = z.ZodObject<z.ZodRawShape>;

/** The zod object of the fields a tool's handler returns (`success` is added by the bridge). */
export type ToolOutputSchema = z.ZodObject<z.ZodRawShape>;

/** Call counts of the tools, for `get_os_state`. */
export interface ToolCallStats {
  totalCalls: number;
  /** Calls per tool name (failures included). */
  callBreakdown: Record<string, number>;
  /** Failed calls per tool name. */
  failureBreakdown: Record<string, number>;
}

/** What the built-in tools see of the bridge. */
export interface BridgeView {
  health(): HealthReport;
  /** The orchestrator's state (`idle`, `running`, `stopping`, `stopped`). */
  readonly state: string;
  /** Clock time of `start()`, or null before it. */
  readonly startedAt: number | null;
  readonly healthCheckIntervalMs: number;
  backend(name: string): Backend | undefined;
  backendNames(): string[];
  toolNames(): string[];
  toolCalls(): ToolCallStats;
  readonly retryMetrics: RetryMetrics;
  readonly a2a: A2ALedger;
}

/** Passed to every tool handler. */
export interface ToolContext {
  readonly bridge: BridgeView;
  /** The backend the tool declared, if any. */
  readonly backend: Backend | undefined;
  /** The retry policy name the tool declared, if any (a `DEFAULT_RETRY_POLICIES` key). */
  readonly operation: string | undefined;
  readonly clock: Clock;
  readonly random: () => number;
  /**
   * Aborted when the caller cancels the call (`bridge.callTool(…, { signal })`, an MCP client's
   * `notifications/cancelled`): pass it on to the backend request. `ctx.run` passes it to every
   * attempt. Undefined when the caller gave none (the call cannot be cancelled).
   */
  readonly signal: AbortSignal | undefined;
  /**
   * Tells the caller what the call is doing (`callTool`'s `onProgress`; an MCP client's
   * `notifications/progress`), e.g. `ctx.progress('request sent')`. Does nothing when the caller
   * asked for no progress.
   */
  progress(message: string): void;
  /**
   * Reports a retry wait as progress ("attempt 1 failed (503); retrying in 4000 ms, attempt 2 of 4"):
   * pass it as `onRetry` to a backend request that retries by itself (`HttpBackend.request`).
   * `ctx.run` reports its own waits. Undefined when the caller asked for no progress.
   */
  readonly onRetry: ((info: RetryInfo) => void) | undefined;
  /**
   * Runs `fn` with the tool's protection: fails fast with `CIRCUIT_OPEN` / `BACKEND_UNAVAILABLE` when
   * the declared backend's breaker is open or the backend is down (without calling `fn`), and retries
   * transient failures (`BACKEND_UNAVAILABLE`, `TIMEOUT`) with the declared retry policy, recording
   * into the bridge's retry metrics. Without an `operation`, `fn` runs once.
   */
  run<T>(fn: (attempt: number, signal: AbortSignal) => T | PromiseLike<T>): Promise<T>;
}

/** A tool: its schema, the backend and retry policy it uses, and its handler. */
export interface ToolDefinition<S extends ToolInputSchema = ToolInputSchema> {
  /** 1–128 characters of `[A-Za-z0-9_.-]`, unique in the bridge. */
  name: string;
  /** A human-readable name for listings. */
  title?: string;
  description: string;
  /** MCP tool annotations: `readOnlyHint`, `destructiveHint`, `idempotentHint`, `openWorldHint`. */
  annotations?: ToolAnnotations;
  /** A zod object; arguments are validated with it before `handler` runs. */
  inputSchema: S;
  /**
   * The fields `handler` returns, as a zod object (without `success`). Listed to MCP clients as the
   * tool's `outputSchema`, together with the failure form; the handler's results must match it.
   * Every built-in tool has one.
   */
  outputSchema?: ToolOutputSchema;
  /** Name of the backend the tool calls (its breaker and health gate the call). */
  backend?: string;
  /** Retry policy name (`DEFAULT_RETRY_POLICIES` key) used by `ctx.run`. */
  operation?: string;
  /**
   * Returns the result fields (`success: true` is added). Throw to fail: the error becomes
   * `{ success: false, error, error_code }` (see `errorCodeOf`).
   */
  handler(args: z.output<S>, ctx: ToolContext): Record<string, unknown> | Promise<Record<string, unknown>>;
}

/** A tool as the surfaces (WebMCP, MCP) see it. */
export interface ToolDescriptor {
  name: string;
  /** A human-readable name for listings. */
  title?: string;
  description: string;
  /** MCP tool annotations (`readOnlyHint`, `destructiveHint`, `idempotentHint`, `openWorldHint`, …). */
  annotations?: ToolAnnotations;
  /** JSON Schema of the arguments (for WebMCP and listings). */
  inputSchema: Record<string, unknown>;
  /** The zod object the arguments are validated with (MCP's registerTool takes its `.shape`). */
  schema: z.ZodObject<z.ZodRawShape>;
  /**
   * JSON Schema of every answer's structured content, when the tool declares one: for code-defined
   * tools, root `type: 'object'` with `oneOf` `{ success: true, …fields }` or the failure form; for a
   * tool a backend provides, the backend's own `outputSchema`, unchanged.
   */
  outputSchema?: Record<string, unknown>;
}

/** One progress report of a tool call (an MCP `notifications/progress` without its token). */
export interface ToolProgress {
  /** 1 for the call's first report, one more for each next one. */
  progress: number;
  /** What is happening, e.g. `attempt 1 failed (503); retrying in 4000 ms, attempt 2 of 4`. */
  message: string;
  /** How many reports the call will make in all, when known (an MCP upstream's own `total`). */
  total?: number;
}

/** Options of one tool call. */
export interface CallToolOptions {
  /**
   * Aborting it cancels the call: the backend request is aborted (fetch aborted, socket request
   * dropped, MCP upstream sent `notifications/cancelled`) and the answer is `error_code: 'CANCELLED'`.
   */
  signal?: AbortSignal;
  /**
   * Receives the call's progress: the tool's own points (`send_llm_prompt`: request sent, answer
   * received) and every retry wait, `progress` counting 1, 2, 3… A listener that throws is ignored.
   * The MCP server passes one when a `tools/call` carries `_meta.progressToken`.
   */
  onProgress?: (progress: ToolProgress) => void;
  /**
   * The caller's W3C trace context (`00-<trace id>-<span id>-<flags>`; MCP: `params._meta.traceparent`):
   * the call's `tools/call <name>` span becomes its child. Ignored when invalid.
   */
  traceparent?: string;
  /** The caller's W3C `tracestate`, kept with `traceparent`. */
  tracestate?: string;
}
