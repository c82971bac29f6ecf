/*
 * Traces of tool calls, through `@opentelemetry/api` only: until an SDK installs a TracerProvider
 * (`installOpenTelemetry`, or the host application's own), every span here is a non-recording no-op.
 *
 * One span per tool call, `tools/call <tool>` (kind SERVER, as the MCP semantic conventions name
 * it), parented by the caller's W3C `traceparent` when it gave one (MCP: `params._meta.traceparent`);
 * one child span per backend attempt, `attempt <operation>` (kind CLIENT). Attributes are
 * low-cardinality: tool, backend and operation names, outcome, error code, attempt number.
 */
import {
  type Attributes,
  type Context,
  context,
  createTraceState,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import type { ToolResult } from '../tools/result.js';
import { reasonOf } from './events.js';

/** The tracer's name (the instrumentation scope of every span here). */
export const TRACER_NAME = 'mcp-lifeline';

/** Span attribute names. */
export const SPAN_ATTRIBUTES = {
  method: 'mcp.method.name',
  tool: 'gen_ai.tool.name',
  operationName: 'gen_ai.operation.name',
  backend: 'mcp_lifeline.backend',
  operation: 'mcp_lifeline.operation',
  outcome: 'mcp_lifeline.outcome',
  errorCode: 'mcp_lifeline.error_code',
  attempt: 'mcp_lifeline.attempt',
  errorType: 'error.type',
} as const;

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/**
 * The context a W3C `traceparent` header value (`00-<trace id>-<parent id>-<flags>`) names, with
 * `tracestate` when given; `ROOT_CONTEXT` for a missing or invalid value (version `ff`, all-zero ids,
 * a version-00 value with extra fields).
 */
export function contextFromTraceparent(traceparent: unknown, tracestate?: unknown): Context {
  if (typeof traceparent !== 'string') return ROOT_CONTEXT;
  const match = TRACEPARENT.exec(traceparent.trim());
  if (!match) return ROOT_CONTEXT;
  const [, version, traceId, spanId, flags, rest] = match as unknown as string[];
  if (version === 'ff' || (version === '00' && rest !== undefined)) return ROOT_CONTEXT;
  if (/^0+$/.test(traceId as string) || /^0+$/.test(spanId as string)) return ROOT_CONTEXT;
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: traceId as string,
    spanId: spanId as string,
    traceFlags: Number.parseInt(flags as string, 16) & 1,
    isRemote: true,
    ...(typeof tracestate === 'string' && tracestate !== ''
      ? { traceState: createTraceState(tracestate) }
      : {}),
  });
}

/** Options of {@link traceToolCall}. */
export interface ToolCallTrace {
  /** The caller's W3C `traceparent`: the tool span's parent. Else the active context's span, if any. */
  traceparent?: string | undefined;
  tracestate?: string | undefined;
}

/**
 * Runs `fn` inside a `tools/call <name>` span (the active span while `fn` runs) and ends the span with
 * the tool's outcome: `mcp_lifeline.outcome` success / failure, `mcp_lifeline.error_code` and
 * `error.type` on failure. `fn` never rejects (the registry's `call` answers failures as results).
 */
export function traceToolCall(
  name: string,
  options: ToolCallTrace,
  fn: () => Promise<ToolResult>,
): Promise<ToolResult> {
  // No tracer provider and no caller's trace context: the span would be a no-op that records
  // nothing and carries no context of its own, so none is made.
  if (options.traceparent === undefined && !tracerInstalled()) return fn();
  return tracedToolCall(name, options, fn);
}

/** Whether a TracerProvider is installed (`trace.setGlobalTracerProvider`), so that spans record. */
function tracerInstalled(): boolean {
  const provider = trace.getTracerProvider();
  return !(provider instanceof ProxyTracerProvider) || provider.getDelegateTracer(TRACER_NAME) !== undefined;
}

async function tracedToolCall(
  name: string,
  options: ToolCallTrace,
  fn: () => Promise<ToolResult>,
): Promise<ToolResult> {
  const parent =
    options.traceparent === undefined
      ? context.active()
      : contextFromTraceparent(options.traceparent, options.tracestate);
  const span = trace.getTracer(TRACER_NAME).startSpan(
    `tools/call ${name}`,
    {
      kind: SpanKind.SERVER,
      attributes: {
        [SPAN_ATTRIBUTES.method]: 'tools/call',
        [SPAN_ATTRIBUTES.tool]: name,
        [SPAN_ATTRIBUTES.operationName]: 'execute_tool',
      },
    },
    parent,
  );
  try {
    const result = await context.with(trace.setSpan(parent, span), fn);
    if (result.success) {
      span.setAttribute(SPAN_ATTRIBUTES.outcome, 'success');
    } else {
      const code = typeof result.error_code === 'string' ? result.error_code : 'EXECUTION_FAILED';
      span.setAttributes({
        [SPAN_ATTRIBUTES.outcome]: 'failure',
        [SPAN_ATTRIBUTES.errorCode]: code,
        [SPAN_ATTRIBUTES.errorType]: code,
      });
      span.setStatus({ code: SpanStatusCode.ERROR, message: code });
    }
    return result;
  } finally {
    span.end();
  }
}

/** Names the backend of the tool call whose span is active (a no-op outside one). */
export function setToolBackend(backend: string | undefined): void {
  if (backend !== undefined) trace.getActiveSpan()?.setAttribute(SPAN_ATTRIBUTES.backend, backend);
}

/**
 * Wraps an attempt function so that each attempt runs in an `attempt <operation>` span, a child of
 * `parent` (the tool call's context, captured when the tool asked to run: XState timers between
 * attempts need not carry it). Without a span in `parent` (no traced call) it adds nothing.
 */
export function traceAttempts<T>(
  backend: string | undefined,
  operation: string,
  fn: (attempt: number, signal: AbortSignal) => T | PromiseLike<T>,
  parent: Context = context.active(),
): (attempt: number, signal: AbortSignal) => Promise<T> {
  // Outside a traced call (health probes, background reconnects, OpenTelemetry off) attempts make no
  // spans of their own, and the wrapper adds no async step.
  if (trace.getSpan(parent) === undefined)
    return (attempt, signal) => {
      try {
        return Promise.resolve(fn(attempt, signal));
      } catch (error) {
        return Promise.reject(error);
      }
    };
  const tracer = trace.getTracer(TRACER_NAME);
  return async (attempt, signal) => {
    const attributes: Attributes = {
      [SPAN_ATTRIBUTES.operation]: operation,
      [SPAN_ATTRIBUTES.attempt]: attempt,
    };
    if (backend !== undefined) attributes[SPAN_ATTRIBUTES.backend] = backend;
    const span: Span = tracer.startSpan(
      `attempt ${operation}`,
      { kind: SpanKind.CLIENT, attributes },
      parent,
    );
    try {
      const value = await context.with(trace.setSpan(parent, span), () => fn(attempt, signal));
      span.setAttribute(SPAN_ATTRIBUTES.outcome, 'success');
      return value;
    } catch (error) {
      const reason = reasonOf(error);
      span.setAttributes({ [SPAN_ATTRIBUTES.outcome]: 'failure', [SPAN_ATTRIBUTES.errorType]: reason });
      span.setStatus({ code: SpanStatusCode.ERROR, message: reason });
      throw error;
    } finally {
      span.end();
    }
  };
}

/**
 * The W3C trace context fields of an MCP request's `_meta` (`traceparent`, `tracestate`), as
 * `CallToolOptions` takes them; `{}` when absent.
 */
export function traceContextOf(meta: unknown): { traceparent?: string; tracestate?: string } {
  if (meta === null || typeof meta !== 'object') return {};
  const { traceparent, tracestate } = meta as Record<string, unknown>;
  return {
    ...(typeof traceparent === 'string' ? { traceparent } : {}),
    ...(typeof tracestate === 'string' ? { tracestate } : {}),
  };
}
