/**
 * Without an OTLP endpoint (or with OTEL_SDK_DISABLED=true) `serve` loads no OpenTelemetry SDK
 * module and sends nothing: real `serve` processes under a resolve hook that records every
 * `@opentelemetry/*` module they load, a real OTLP receiver listening (on the default port 4318 when
 * it is free), and a tool called through the MCP SDK client. The control run, with the endpoint set,
 * shows the hook sees the SDK load and the exit flush reach the receiver.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Lab, startLab } from '../src/lab/index.js';
import { childEnv, labEnv, ROOT } from './e2e/helpers.js';
import { type OtlpReceiver, startOtlpReceiver } from './support/otlp-receiver.js';

const BIN = join(ROOT, 'bin/mcp-lifeline.js');
const HOOK = join(ROOT, 'test/support/record-imports.mjs');
const SDK_MODULE = /\/@opentelemetry\/(sdk-|exporter-|otlp-|resources|context-async-hooks|core)/;

/** Runs `serve` over stdio, calls one tool, closes; returns the `@opentelemetry` modules it loaded. */
async function serveOnce(env: Record<string, string>): Promise<string[]> {
  const log = join(mkdtempSync(join(tmpdir(), 'mcp-lifeline-otel-off-')), 'imports.txt');
  writeFileSync(log, '');
  const client = new Client({ name: 'otel-off', version: '1.0.0' });
  await client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: ['--import', HOOK, BIN, 'serve'],
      cwd: ROOT,
      env: childEnv({ ...env, RECORD_IMPORTS_FILE: log }),
      stderr: 'pipe',
    }),
  );
  try {
    const result = await client.callTool({
      name: 'send_llm_prompt',
      arguments: { prompt: 'hello' },
      _meta: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
    });
    expect(result.isError).toBe(false);
  } finally {
    await client.close(); // resolves once the child has exited (after its exit flush, if any)
  }
  return readFileSync(log, 'utf8').split('\n').filter(Boolean);
}

describe('serve without OpenTelemetry variables', () => {
  let lab: Lab;
  let receiver: OtlpReceiver;
  let defaultPort = true;
  beforeAll(async () => {
    lab = await startLab({ wsPort: 0, httpPort: 0, controlPort: 0 });
    receiver = await startOtlpReceiver(4318).catch(() => {
      defaultPort = false; // another process has 4318: a free port still proves nothing is sent to it
      return startOtlpReceiver();
    });
  });
  afterAll(async () => {
    await receiver?.close();
    await lab?.stop();
  });

  it('loads no SDK module and sends nothing (OTEL_* set but no endpoint, or OTEL_SDK_DISABLED)', async () => {
    const [none, disabled] = await Promise.all([
      serveOnce({ ...labEnv(lab), OTEL_SERVICE_NAME: 'quiet', OTEL_METRIC_EXPORT_INTERVAL: '50' }),
      serveOnce({
        ...labEnv(lab),
        OTEL_SDK_DISABLED: 'true',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_METRIC_EXPORT_INTERVAL: '50',
      }),
    ]);
    expect(none.filter((url) => SDK_MODULE.test(url))).toEqual([]);
    expect(disabled.filter((url) => SDK_MODULE.test(url))).toEqual([]);
    expect(receiver.requests, `receiver on ${defaultPort ? 'the default port 4318' : receiver.url}`).toEqual(
      [],
    );
  }, 90_000);

  it('control: with the endpoint set the hook sees the SDK load and the exit flush arrives', async () => {
    const loaded = await serveOnce({
      ...labEnv(lab),
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_METRIC_EXPORT_INTERVAL: '600000',
    });
    expect(loaded.some((url) => url.includes('/@opentelemetry/sdk-metrics/'))).toBe(true);
    expect(loaded.some((url) => url.includes('/@opentelemetry/exporter-trace-otlp-http/'))).toBe(true);
    const paths = receiver.requests.map((r) => r.path);
    expect(paths).toContain('/v1/metrics');
    expect(paths).toContain('/v1/traces');
  }, 60_000);
});
