/**
 * OpenTelemetry export by the standard environment, end to end: a real `serve` process (stdio) with
 * `OTEL_EXPORTER_OTLP_ENDPOINT` pointing at a real OTLP/HTTP receiver on 127.0.0.1, the lab as its
 * backends, and the official MCP SDK client calling a tool with `_meta.traceparent`. The receiver gets
 * the bridge's metrics (a breaker series) and the trace: `tools/call send_llm_prompt` whose parent is
 * the client's span, and `attempt sendLLMPrompt` as its child.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Lab, startLab } from '../src/lab/index.js';
import { INSTRUMENTS } from '../src/telemetry/otel.js';
import { childEnv, labEnv, ROOT } from './e2e/helpers.js';
import { type OtlpReceiver, startOtlpReceiver } from './support/otlp-receiver.js';

const BIN = join(ROOT, 'bin/mcp-lifeline.js');

describe('serve with OTEL_EXPORTER_OTLP_ENDPOINT', () => {
  let lab: Lab;
  let receiver: OtlpReceiver;
  beforeAll(async () => {
    lab = await startLab({ wsPort: 0, httpPort: 0, controlPort: 0 });
    receiver = await startOtlpReceiver();
  });
  afterAll(async () => {
    await receiver?.close();
    await lab?.stop();
  });

  it('exports a breaker series and the tool call trace under the client traceparent', async () => {
    const traceId = randomBytes(16).toString('hex');
    const clientSpanId = randomBytes(8).toString('hex');
    const stderr: string[] = [];
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [BIN, 'serve'],
      cwd: ROOT,
      env: childEnv({
        ...labEnv(lab),
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_METRIC_EXPORT_INTERVAL: '200',
        OTEL_BSP_SCHEDULE_DELAY: '100',
        OTEL_SERVICE_NAME: 'lifeline-under-test',
      }),
      stderr: 'pipe',
    });
    transport.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
    const client = new Client({ name: 'otel-test', version: '1.0.0' });
    await client.connect(transport);
    try {
      const result = await client.callTool({
        name: 'send_llm_prompt',
        arguments: { prompt: 'hello' },
        _meta: { traceparent: `00-${traceId}-${clientSpanId}-01` },
      });
      expect(result.isError, JSON.stringify(result)).toBe(false);

      await receiver.until(
        () =>
          receiver
            .metricNames()
            .some((m) => m.name === INSTRUMENTS.breakerState && m.service === 'lifeline-under-test'),
        30_000,
        'a breaker state series',
      );
      const inTrace = () => receiver.spans().filter((span) => span.traceId === traceId);
      await receiver.until(
        () => inTrace().some((s) => s.name === 'tools/call send_llm_prompt') && inTrace().length >= 2,
        30_000,
        'the tool span and its attempt span',
      );
    } finally {
      await client.close();
    }
    const spans = receiver.spans().filter((span) => span.traceId === traceId);
    const tool = spans.find((s) => s.name === 'tools/call send_llm_prompt');
    expect(tool, stderr.join('')).toBeDefined();
    expect(tool?.parentSpanId).toBe(clientSpanId);
    expect(tool?.attributes).toMatchObject({
      'mcp.method.name': 'tools/call',
      'gen_ai.tool.name': 'send_llm_prompt',
      'mcp_lifeline.backend': 'lmStudio',
      'mcp_lifeline.outcome': 'success',
    });
    const attempt = spans.find((s) => s.name === 'attempt sendLLMPrompt');
    expect(attempt?.parentSpanId).toBe(tool?.spanId);
    expect(attempt?.attributes).toMatchObject({
      'mcp_lifeline.attempt': 0,
      'mcp_lifeline.backend': 'lmStudio',
      'mcp_lifeline.outcome': 'success',
    });
    expect(receiver.requests.every((r) => r.contentType === 'application/json')).toBe(true);
  }, 60_000);

  it('start exports the bridge metrics too', async () => {
    const child = spawn(
      process.execPath,
      [BIN, 'start', '--port', '0', '--ws-port', '0', '--http-port', '0'],
      {
        cwd: ROOT,
        env: childEnv({
          OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${receiver.url}/v1/metrics`,
          OTEL_METRIC_EXPORT_INTERVAL: '200',
          OTEL_SERVICE_NAME: 'lifeline-start',
        }),
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    const exited = new Promise((resolve) => child.once('exit', resolve));
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    try {
      await Promise.race([
        receiver.until(
          () =>
            receiver
              .metricNames()
              .some((m) => m.name === INSTRUMENTS.breakerState && m.service === 'lifeline-start'),
          30_000,
          'a breaker series from start',
        ),
        exited.then((code) => {
          throw new Error(`start exited with ${code}: ${stderr}`);
        }),
      ]);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  }, 60_000);
});
