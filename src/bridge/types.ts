import type { AnyActorRef, InspectionEvent, Observer } from 'xstate';
import type { z } from 'zod';
import type { FetchLike, HttpBackendOptions } from '../backends/http.js';
import type { ToolAnnotations } from '../backends/kind.js';
import type { SocketBackendOptions, WebSocketConstructor } from '../backends/socket.js';
import type { Backend, BackendHealth, HealthStatus } from '../backends/types.js';
import type { Clock } from '../clock.js';
import type { RetryMetrics } from '../reliability/retry-metrics.js';
import type { ReliabilityEvents } from '../telemetry/events.js';
import type { ToolDefinition, ToolInputSchema } from '../tools/types.js';

export interface HealthReport {
  status: HealthStatus;
  /** ISO time of the report. */
  checkedAt: string;
  backends: Record<string, BackendHealth>;
}

/**
 * Error codes of failed tool calls. An unknown tool name is answered `INVALID_INPUT` with
 * `field: 'name'` (the design's fixed list of codes).
 */
export type ErrorCode =
  | 'INVALID_INPUT'
  | 'BACKEND_UNAVAILABLE'
  | 'CIRCUIT_OPEN'
  | 'TIMEOUT'
  | 'QUEUE_FULL'
  | 'CANCELLED'
  | 'EXECUTION_FAILED';

/** A tool's answer: its own fields on success, or `{ success: false, error, error_code }`. */
export type ToolResult =
  | ({ success: true } & Record<string, unknown>)
  | { success: false; error: string; error_code: ErrorCode; field?: string };

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
}

/** Options of `bridge.callTool`. */
export interface CallToolOptions {
  /**
   * Aborting it cancels the call: the backend request is aborted (fetch aborted, socket request
   * dropped, MCP upstream sent `notifications/cancelled`) and the answer is `error_code: 'CANCELLED'`.
   */
  signal?: AbortSignal;
}

export type HealthListener = (report: HealthReport, previous: HealthReport) => void;

export interface Bridge {
  start(): Promise<void>;
  stop(): Promise<void>;
  health(): HealthReport;
  /** Fires only when some backend's `status`, `state` or `breaker` changed, never for an idle tick. */
  onHealthChange(listener: HealthListener): () => void;
  listTools(): ToolDescriptor[];
  /** Validates `args` and runs the tool; never rejects: failures come back as `{ success: false, … }`. */
  callTool(name: string, args: unknown, options?: CallToolOptions): Promise<ToolResult>;
  /** The orchestrator actor. */
  readonly actor: AnyActorRef;
  /**
   * Adds a host tool. It is validated and protected like the built-in ones: `backend` names the backend
   * whose breaker and health gate `ctx.run`, `operation` the retry policy. Throws `TypeError` for an
   * invalid or duplicate name. Returns a function that removes the tool.
   */
  registerTool<S extends ToolInputSchema>(tool: ToolDefinition<S>): () => void;
  /**
   * Tells the bridge that a tool surface (`'webmcp'` page registration, `'mcp'` server, …) is up or
   * down: the `webmcp` line of the health report passes while any surface is up.
   */
  setSurface(surface: string, up: boolean): void;
  /** A configured backend by name. */
  backend(name: string): Backend | undefined;
  backendNames(): string[];
  /** The registry every retried call of this bridge records into. */
  readonly retryMetrics: RetryMetrics;
  /** Retries, attempts and breaker transitions as they happen (for telemetry: `instrumentBridge`). */
  readonly reliabilityEvents: ReliabilityEvents;
}

/** A logger for the bridge and its backends. Default: `console`. */
export interface BridgeLogger {
  warn(message: string, details?: Record<string, unknown>): void;
  info?(message: string, details?: Record<string, unknown>): void;
  error?(message: string, details?: Record<string, unknown>): void;
  debug?(message: string, details?: Record<string, unknown>): void;
}

/** One backend's configuration. */
export interface BackendConfig {
  /** Required for backends other than the four defaults (whose kind is known). */
  kind?: 'websocket' | 'http';
  /** ws:// or wss:// for sockets, http:// or https:// for HTTP backends. */
  url?: string;
  /** A critical backend that fails makes the whole report `fail`. Default: only `lmStudio`. */
  critical?: boolean;
  /** `false` leaves the backend out. */
  enabled?: boolean;
  /** Passed to `createSocketBackend` / `createHttpBackend` (timeouts, breaker, retry, heartbeat…). */
  options?:
    | Partial<Omit<SocketBackendOptions, 'name' | 'url'>>
    | Partial<Omit<HttpBackendOptions, 'name' | 'baseUrl'>>;
}

/** Options of `createBridge`; every field is optional. */
export interface BridgeConfig {
  /**
   * Merged over the defaults by name: `evolution` ws://localhost:8765/evolution, `agents`
   * ws://localhost:8765/agents, `a2a` ws://localhost:8765/a2a, `lmStudio` http://localhost:1234/v1.
   */
  backends?: Record<string, BackendConfig>;
  /** Mean time between active health checks. Default 10 000 ms. */
  healthCheckIntervalMs?: number;
  /** Relative spread of that time, in [0, 1). Default 0.1 (±10 %). */
  healthCheckJitter?: number;
  /** Include the `webmcp` line (the tool surface) in the health report. Default true. */
  surface?: boolean;
  clock?: Clock;
  /** Source of every jitter and id. Default `Math.random`. */
  random?: () => number;
  /**
   * WebSocket constructor for socket backends. Default: `globalThis.WebSocket` in browsers; in Node,
   * `ws` loaded on first connect (or use `createNodeBridge` from `src/bridge/node.ts`).
   */
  WebSocket?: WebSocketConstructor;
  /** `fetch` for HTTP backends. Default `globalThis.fetch`. */
  fetch?: FetchLike;
  /** XState inspection observer given to every actor: orchestrator, backends, breakers, retries. */
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
  logger?: BridgeLogger;
  /** Limit of `send_llm_prompt`'s `prompt`, in characters. Default 100 000. */
  maxPromptChars?: number;
  /** `from_agent` of A2A messages. Default 'mcp-lifeline'. */
  agentId?: string;
}
