/*
 * GET /metrics on the bridge's HTTP server (`serve --http`): scraped over HTTP and parsed with a
 * small parser of the Prometheus text format — every sample `name{labels} value`, every name declared
 * by a `# TYPE` line, values numeric — with the same Host/Origin checks as /mcp.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bridge } from '../src/bridge/types.js';
import type { ManualClock } from '../src/clock.js';
import { type McpHttpServer, startMcpHttpServer } from '../src/mcp/http.js';
import { escapeLabelValue, PROMETHEUS_CONTENT_TYPE, renderPrometheus } from '../src/telemetry/prometheus.js';
import { registerFlakyTool, telemetryBridge } from './telemetry-fixtures.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

interface Exposition {
  types: Map<string, string>;
  help: Map<string, string>;
  samples: Sample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)$`);
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y;

/** Parses exposition text; throws on any line that is not a comment, a blank or a valid sample. */
function parsePrometheus(text: string): Exposition {
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  const samples: Sample[] = [];
  for (const [index, line] of text.split('\n').entries()) {
    if (line === '') continue;
    const comment = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (comment) {
      const [, kind, name, rest] = comment as unknown as [string, string, string, string];
      if (kind === 'TYPE') {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest))
          throw new Error(`line ${index + 1}: bad type ${rest}`);
        if (types.has(name)) throw new Error(`line ${index + 1}: ${name} declared twice`);
        types.set(name, rest);
      } else help.set(name, rest);
      continue;
    }
    if (line.startsWith('#')) continue;
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`line ${index + 1}: not a sample: ${line}`);
    const [, name, labelText = '', valueText] = match as unknown as [
      string,
      string,
      string | undefined,
      string,
    ];
    const labels: Record<string, string> = {};
    LABEL.lastIndex = 0;
    while (LABEL.lastIndex < labelText.length) {
      const start = LABEL.lastIndex;
      const label = LABEL.exec(labelText);
      if (!label || label.index !== start) throw new Error(`line ${index + 1}: bad labels: ${labelText}`);
      const [, key, raw] = label as unknown as [string, string, string];
      labels[key] = raw.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    const value = valueText === '+Inf' ? Infinity : valueText === '-Inf' ? -Infinity : Number(valueText);
    if (valueText !== 'NaN' && Number.isNaN(value)) throw new Error(`line ${index + 1}: value ${valueText}`);
    samples.push({ name, labels, value });
  }
  for (const sample of samples) {
    if (!types.has(sample.name)) throw new Error(`${sample.name} has no # TYPE line`);
    if (types.get(sample.name) === 'counter' && !sample.name.endsWith('_total'))
      throw new Error(`counter ${sample.name} does not end in _total`);
  }
  return { types, help, samples };
}

function get(
  port: number,
  headers: Record<string, string>,
  method = 'GET',
): Promise<{ status: number; type: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/metrics', method, headers }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const sampleOf = (exposition: Exposition, name: string, labels: Record<string, string>) =>
  exposition.samples.find(
    (s) => s.name === name && Object.entries(labels).every(([key, value]) => s.labels[key] === value),
  )?.value;

describe('GET /metrics (Prometheus text over HTTP)', () => {
  let bridge: Bridge;
  let clock: ManualClock;
  let server: McpHttpServer;
  let host: string;

  beforeAll(async () => {
    ({ bridge, clock } = telemetryBridge());
    server = await startMcpHttpServer(bridge, { host: '127.0.0.1', port: 0 });
    host = `127.0.0.1:${server.port}`;
  });
  afterAll(async () => {
    await server?.close();
    await bridge?.stop();
  });

  it('serves parseable exposition text reflecting breakers, retries and health', async () => {
    registerFlakyTool(bridge, 2);
    const call = bridge.callTool('flaky', {});
    await clock.advance(10_000);
    expect(await call).toMatchObject({ success: true });
    const breaker = bridge.backend('lmStudio')?.breaker;
    for (let i = 0; i < 2; i++)
      await breaker?.execute(() => Promise.reject(new Error('down'))).catch(() => {});
    await breaker?.execute(() => 'refused').catch(() => {});

    const res = await get(server.port, { host });
    expect(res.status).toBe(200);
    expect(res.type).toBe(PROMETHEUS_CONTENT_TYPE);
    const exposition = parsePrometheus(res.body);
    expect([...exposition.types]).toEqual([
      ['mcp_lifeline_circuit_breaker_state', 'gauge'],
      ['mcp_lifeline_circuit_breaker_calls_total', 'counter'],
      ['mcp_lifeline_circuit_breaker_not_permitted_calls_total', 'counter'],
      ['mcp_lifeline_circuit_breaker_trips_total', 'counter'],
      ['mcp_lifeline_circuit_breaker_consecutive_failures', 'gauge'],
      ['mcp_lifeline_retry_calls_total', 'counter'],
      ['mcp_lifeline_retries_total', 'counter'],
      ['mcp_lifeline_retry_delay_seconds_total', 'counter'],
      ['mcp_lifeline_backend_throttle_reject_probability', 'gauge'],
      ['mcp_lifeline_backend_health', 'gauge'],
      ['mcp_lifeline_health', 'gauge'],
    ]);
    for (const name of exposition.types.keys()) expect(exposition.help.get(name)).toBeTruthy();

    const breakerLabels = { backend: 'lmStudio' };
    // The HTTP backend is throttled adaptively; a few failures do not make it throttle.
    expect(sampleOf(exposition, 'mcp_lifeline_backend_throttle_reject_probability', breakerLabels)).toBe(0);
    expect(
      sampleOf(exposition, 'mcp_lifeline_circuit_breaker_state', { ...breakerLabels, state: 'OPEN' }),
    ).toBe(1);
    expect(
      sampleOf(exposition, 'mcp_lifeline_circuit_breaker_state', { ...breakerLabels, state: 'CLOSED' }),
    ).toBe(0);
    expect(
      sampleOf(exposition, 'mcp_lifeline_circuit_breaker_calls_total', {
        ...breakerLabels,
        outcome: 'failure',
      }),
    ).toBe(2);
    expect(
      sampleOf(exposition, 'mcp_lifeline_circuit_breaker_calls_total', {
        ...breakerLabels,
        outcome: 'rejected',
      }),
    ).toBe(1);
    expect(
      sampleOf(exposition, 'mcp_lifeline_circuit_breaker_not_permitted_calls_total', breakerLabels),
    ).toBe(1);
    expect(sampleOf(exposition, 'mcp_lifeline_circuit_breaker_trips_total', breakerLabels)).toBe(1);
    expect(sampleOf(exposition, 'mcp_lifeline_retries_total', { operation: 'fetch' })).toBe(2);
    expect(
      sampleOf(exposition, 'mcp_lifeline_retry_calls_total', { operation: 'fetch', outcome: 'success' }),
    ).toBe(1);
    expect(
      sampleOf(exposition, 'mcp_lifeline_retry_delay_seconds_total', { operation: 'fetch' }),
    ).toBeGreaterThan(0);
    expect(sampleOf(exposition, 'mcp_lifeline_backend_health', breakerLabels)).toBe(2);
    // Every backend's health sample names its kind (websocket, http, mcp, webmcp-page).
    expect(sampleOf(exposition, 'mcp_lifeline_backend_health', { ...breakerLabels, kind: 'http' })).toBe(2);
    expect(sampleOf(exposition, 'mcp_lifeline_health', {})).toBe(2);
    // Low cardinality: no URL, id or message in any label.
    for (const sample of exposition.samples) {
      for (const [key, value] of Object.entries(sample.labels)) {
        expect(['backend', 'kind', 'state', 'outcome', 'operation']).toContain(key);
        expect(value).not.toMatch(/[/:?]/);
      }
    }
  });

  it('answers HEAD without a body', async () => {
    const res = await get(server.port, { host }, 'HEAD');
    expect(res.status).toBe(200);
    expect(res.body).toBe('');
  });

  it('applies the same Host and Origin checks as /mcp', async () => {
    expect((await get(server.port, { host: `evil.example:${server.port}` })).status).toBe(403);
    expect((await get(server.port, { host, origin: 'https://evil.example' })).status).toBe(403);
    expect((await get(server.port, { host, origin: 'http://localhost:3000' })).status).toBe(200);
  });
});

describe('renderPrometheus', () => {
  it('escapes label values and HELP text, formats special values', () => {
    const text = renderPrometheus([
      {
        name: 'x_total',
        type: 'counter',
        help: 'a \\ help\nline',
        samples: [
          { labels: { backend: 'we"ird\\name\nx' }, value: 1 },
          { labels: {}, value: Number.POSITIVE_INFINITY },
        ],
      },
    ]);
    expect(text).toBe(
      '# HELP x_total a \\\\ help\\nline\n# TYPE x_total counter\nx_total{backend="we\\"ird\\\\name\\nx"} 1\nx_total +Inf\n',
    );
    const parsed = parsePrometheus(text);
    expect(parsed.samples[0]?.labels.backend).toBe('we"ird\\name\nx');
    expect(escapeLabelValue('a"b')).toBe('a\\"b');
  });

  it('the parser rejects malformed text', () => {
    expect(() => parsePrometheus('undeclared 1\n')).toThrow(/no # TYPE/);
    expect(() => parsePrometheus('# TYPE x gauge\nx{a="1} 1\n')).toThrow(/bad labels|not a sample/);
    expect(() => parsePrometheus('# TYPE x gauge\nx one\n')).toThrow(/value/);
    expect(() => parsePrometheus('# TYPE x counter\nx 1\n')).toThrow(/_total/);
  });
});
