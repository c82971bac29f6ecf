/*
 * The plug-in contract of a backend kind. A kind (`websocket`, `http`, `mcp`, `webmcp-page`) is
 * `{ kind, configSchema, create(name, config, deps) }`: the bridge validates `backends.<name>` with
 * `configSchema` and builds the backend with `create`, from a registry of kinds — never from an `if`
 * per kind. A kind whose backend brings its own tools (MCP upstreams, WebMCP pages) also implements
 * `ToolProvider`; the bridge lists those tools as `<prefix>__<tool>` beside the built-in ones.
 *
 * Imports: types only (zod, the clock, reliability and telemetry types).
 */
import type { InspectionEvent, Observer } from 'xstate';
import type { z } from 'zod';
import type { Clock } from '../clock.js';
import type { BreakerCheckpoint } from '../reliability/breaker.js';
import type { BreakerRuleOptions } from '../reliability/breaker-rule-options.js';
import type { RetryBudget } from '../reliability/retry-budget.js';
import type { RetryMetrics } from '../reliability/retry-metrics.js';
import type { ReliabilityEventHub } from '../telemetry/events.js';
import type { Backend } from './types.js';

/** Where backends log. Messages never contain secrets (header values, tokens, query strings). */
export interface BackendLogger {
  warn(message: string, details?: Record<string, unknown>): void;
  info?(message: string, details?: Record<string, unknown>): void;
  error?(message: string, details?: Record<string, unknown>): void;
  debug?(message: string, details?: Record<string, unknown>): void;
}

/** What the bridge gives every backend it creates. */
export interface BackendDeps {
  readonly clock: Clock;
  readonly random: () => number;
  readonly logger: BackendLogger;
  readonly inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
  /** A critical backend that fails makes the whole health report `fail`. */
  readonly critical: boolean;
  /** The bridge's data directory, when it has one (last known tool lists, breaker state, outbox). */
  readonly dataDir?: string;
  /** The bridge's retry metrics registry. */
  readonly retryMetrics: RetryMetrics;
  /** This backend's own retry budget. */
  readonly budget: RetryBudget;
  /** Where the backend reports retries, attempts and breaker transitions (telemetry). */
  readonly events: ReliabilityEventHub;
  /** The breaker state a previous run saved (with persistence): the backend's breaker resumes it. */
  readonly restore?: BreakerCheckpoint;
}

/** A backend kind: validates its own `backends.<name>` entry and creates its backends. */
export interface BackendKindPlugin<C extends { kind: string } = { kind: string }> {
  readonly kind: C['kind'];
  /** Validates one `backends.<name>` entry (with its `kind`); errors name the field at fault. */
  readonly configSchema: z.ZodType<C>;
  /**
   * The trip rule of its backends' breakers when the entry's `breaker.rule` does not say (`create`
   * applies it). Default: the consecutive rule, as `createCircuitBreaker`'s.
   */
  readonly defaultBreakerRule?: BreakerRuleOptions;
  create(name: string, config: C, deps: BackendDeps): Backend;
}

/** A kind whatever its config type: what registries and the `kinds` options hold. */
// biome-ignore lint/suspicious/noExplicitAny: each plug-in's config type is its own; the registry validates with its schema
export type AnyBackendKindPlugin = BackendKindPlugin<any>;

/** MCP tool annotations (the MCP spec's `ToolAnnotations`, plus WebMCP's `untrustedContentHint`). */
export interface ToolAnnotations {
  title?: string;
  readOnlyHint?: boolean;
  destructiveHint?: boolean;
  idempotentHint?: boolean;
  openWorldHint?: boolean;
  /** WebMCP: the result holds content the page does not vouch for. */
  untrustedContentHint?: boolean;
}

/** A tool as a backend (an MCP upstream, a WebMCP page) describes it, under its own name. */
export interface RemoteTool {
  /** The tool's name at the backend (the bridge lists it as `<prefix>__<name>`). */
  name: string;
  title?: string;
  description?: string;
  /** JSON Schema of the arguments (an object schema). */
  inputSchema: Record<string, unknown>;
  outputSchema?: Record<string, unknown>;
  annotations?: ToolAnnotations;
}

/** One content block of an MCP tool result, passed through unchanged. */
export type RemoteContent = { type: string } & Record<string, unknown>;

/** An MCP `CallToolResult`, passed through to the bridge's clients unchanged. */
export interface RemoteCallResult {
  content: RemoteContent[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
  _meta?: Record<string, unknown>;
}

/** Options of one call to a backend's tool. */
export interface RemoteCallOptions {
  /** Aborting it cancels the call at the backend (MCP `notifications/cancelled`, …). */
  signal?: AbortSignal;
  /** Called with progress the backend reports, when it reports any. */
  onProgress?: (progress: { progress: number; total?: number; message?: string }) => void;
}

/** A backend that brings its own tools. */
export interface ToolProvider {
  /**
   * The tools, under their own names: the last known list, kept while the backend is down (and,
   * with a data directory, across restarts of the bridge). Empty until first known.
   */
  listTools(): RemoteTool[];
  /** Called whenever `listTools()` may have changed. Returns an unsubscribe function. */
  onToolsChanged(listener: () => void): () => void;
  /**
   * Calls a tool through this backend's breaker (and retry, when the tool is safe to repeat).
   * Rejects with `BrokenCircuitError` (breaker OPEN), `BackendUnavailableError` (down, not
   * retried), a timeout or the caller's `signal.reason` — never with a tool's own failure, which
   * resolves with `isError: true`.
   */
  callTool(
    name: string,
    args: Record<string, unknown>,
    options?: RemoteCallOptions,
  ): Promise<RemoteCallResult>;
  /** The prefix of this backend's tools in the bridge's list. Default: the backend's name. */
  readonly toolPrefix?: string;
  /** Whether the bridge lists a tool of this backend (the `include` / `exclude` settings). */
  exposes?(toolName: string): boolean;
}

/** Whether a backend also provides tools. */
export function isToolProvider(backend: Backend): backend is Backend & ToolProvider {
  const candidate = backend as Partial<ToolProvider>;
  return typeof candidate.listTools === 'function' && typeof candidate.callTool === 'function';
}
