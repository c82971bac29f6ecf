/**
 * The tool-call spans in process, with the real OTel trace SDK (in-memory exporter, AsyncLocalStorage
 * context manager): W3C traceparent parsing, `tools/call <tool>` parented by the caller's context,
 * one `attempt <operation>` child per attempt (a retried tool: two), the outcome and error code, and
 * no span at all for attempts outside a traced call.
 */
import { context, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mcpKind } from '../src/backends/mcp/index.js';
import { createBridge } from '../src/bridge/create-bridge.js';
import { contextFromTraceparent, traceAttempts, traceContextOf } from '../src/telemetry/tracing.js';
import { SOCKETS_OFF } from './bridge-fixtures.js';
import { waitFor } from './e2e/helpers.js';
import { referenceServer } from './mcp-support.js';
import { registerFlakyTool, telemetryBridge } from './telemetry-fixtures.js';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const PARENT = 'b7ad6b7169203331';
const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
});
afterAll(async () => {
  await provider.shutdown();
  trace.disable();
  context.disable();
});
beforeEach(() => exporter.reset());

describe('contextFromTraceparent', () => {
  it('reads a valid traceparent and refuses invalid ones', () => {
    const span = trace.getSpanContext(contextFromTraceparent(`00-${TRACE_ID}-${PARENT}-01`, 'k=v'));
    expect(span).toMatchObject({ traceId: TRACE_ID, spanId: PARENT, traceFlags: 1, isRemote: true });
    expect(span?.traceState?.get('k')).toBe('v');
    for (const bad of [
      undefined,
      42,
      'garbage',
      `ff-${TRACE_ID}-${PARENT}-01`,
      `00-${'0'.repeat(32)}-${PARENT}-01`,
      `00-${TRACE_ID}-${'0'.repeat(16)}-01`,
      `00-${TRACE_ID}-${PARENT}-01-extra`,
    ])
      expect(contextFromTraceparent(bad)).toBe(ROOT_CONTEXT);
  });

  it('traceContextOf takes the string fields of MCP _meta only', () => {
    expect(traceContextOf({ traceparent: 'a', tracestate: 'b', other: 1 })).toEqual({
      traceparent: 'a',
      tracestate: 'b',
    });
    expect(traceContextOf({ traceparent: 7 })).toEqual({});
    expect(traceContextOf(undefined)).toEqual({});
  });
});

describe('tool call spans', () => {
  it('a retried tool: tools/call under the caller, one attempt span per attempt', async () => {
    const { bridge, clock } = telemetryBridge();
    registerFlakyTool(bridge, 1);
    const call = bridge.callTool('flaky', {}, { traceparent: `00-${TRACE_ID}-${PARENT}-01` });
    await clock.advance(10_000);
    expect(await call).toMatchObject({ success: true, attempts: 2 });
    const spans = exporter.getFinishedSpans();
    const tool = spans.find((s) => s.name === 'tools/call flaky');
    expect(tool?.spanContext().traceId).toBe(TRACE_ID);
    expect(tool?.parentSpanContext?.spanId).toBe(PARENT);
    expect(tool?.attributes).toMatchObject({
      'gen_ai.tool.name': 'flaky',
      'mcp_lifeline.backend': 'lmStudio',
      'mcp_lifeline.outcome': 'success',
    });
    const attempts = spans.filter((s) => s.name === 'attempt fetch');
    expect(
      attempts.map((s) => [s.attributes['mcp_lifeline.attempt'], s.attributes['mcp_lifeline.outcome']]),
    ).toEqual([
      [0, 'failure'],
      [1, 'success'],
    ]);
    expect(attempts.map((s) => s.attributes['error.type'])).toEqual(['TimeoutError', undefined]);
    for (const attempt of attempts)
      expect(attempt.parentSpanContext?.spanId).toBe(tool?.spanContext().spanId);
  });

  it('a failed call records its error code; without traceparent the span is a root', async () => {
    const { bridge } = telemetryBridge();
    expect(await bridge.callTool('send_llm_prompt', {})).toMatchObject({ error_code: 'INVALID_INPUT' });
    const [span] = exporter.getFinishedSpans();
    expect(span?.name).toBe('tools/call send_llm_prompt');
    expect(span?.parentSpanContext).toBeUndefined();
    expect(span?.attributes).toMatchObject({
      'mcp_lifeline.outcome': 'failure',
      'mcp_lifeline.error_code': 'INVALID_INPUT',
      'error.type': 'INVALID_INPUT',
    });
  });

  it('attempts outside a traced call make no span', async () => {
    await traceAttempts('lmStudio', 'probe', async () => 1)(0, new AbortController().signal);
    expect(exporter.getFinishedSpans()).toEqual([]);
  });
});

describe('a discovered MCP tool', () => {
  it('tools/call everything__echo names its backend and has the upstream attempt as a child', async () => {
    const bridge = createBridge({
      surface: false,
      logger: { warn: () => {}, info: () => {}, error: () => {}, debug: () => {} },
      kinds: [mcpKind],
      backends: {
        ...SOCKETS_OFF,
        lmStudio: { enabled: false },
        everything: {
          kind: 'mcp',
          command: process.execPath,
          args: [referenceServer('everything'), 'stdio'],
        },
      },
    });
    bridge.start();
    try {
      await waitFor(
        () => bridge.listTools().some((t) => t.name === 'everything__echo'),
        30_000,
        'echo listed',
      );
      const result = await bridge.callTool(
        'everything__echo',
        { message: 'hi' },
        { traceparent: `00-${TRACE_ID}-${PARENT}-01` },
      );
      expect(result.success).toBe(true);
    } finally {
      await bridge.stop();
    }
    const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === TRACE_ID);
    const tool = spans.find((s) => s.name === 'tools/call everything__echo');
    expect(tool?.attributes).toMatchObject({
      'mcp_lifeline.backend': 'everything',
      'mcp_lifeline.outcome': 'success',
    });
    const attempt = spans.find((s) => s.name === 'attempt everything.callTool');
    expect(attempt?.parentSpanContext?.spanId).toBe(tool?.spanContext().spanId);
  }, 60_000);
});
