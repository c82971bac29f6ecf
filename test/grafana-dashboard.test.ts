/**
 * docs/grafana-dashboard.json: every metric name its queries use is a real one — a family of the
 * bridge's `/metrics` exposition (`prometheusText`), or an OpenTelemetry instrument of
 * `instrumentBridge` as collected by the real OTel metrics SDK, under the name Prometheus stores it
 * with (OTel → Prometheus: dots to underscores, unit suffix, `_total` for counters, `_bucket` /
 * `_sum` / `_count` for histograms). Test/prometheus.test.ts evaluates each query on a real Prometheus.
 */
import { readFileSync } from 'node:fs';
import {
  DataPointType,
  MeterProvider,
  type MetricDescriptor,
  MetricReader,
} from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { instrumentBridge, METER_NAME } from '../src/telemetry/otel.js';
import { prometheusText } from '../src/telemetry/prometheus.js';
import { DASHBOARD, dashboardQueries, type Panel } from './support/dashboard.js';
import { registerFlakyTool, telemetryBridge } from './telemetry-fixtures.js';

class CollectingReader extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

/** OTel → Prometheus names of one metric (the compatibility specification's translation). */
function prometheusNames(descriptor: MetricDescriptor, type: DataPointType): string[] {
  const base = descriptor.name.replace(/[^a-zA-Z0-9_]/g, '_');
  const unit = descriptor.unit.startsWith('{')
    ? ''
    : ({ ms: 'milliseconds', s: 'seconds' }[descriptor.unit] ?? '');
  const name = unit ? `${base}_${unit}` : base;
  if (type === DataPointType.HISTOGRAM) return [`${name}_bucket`, `${name}_sum`, `${name}_count`];
  if (type === DataPointType.SUM) return [`${name}_total`];
  return [name];
}

describe('the Grafana dashboard', () => {
  it('queries only metric names that exist', async () => {
    const { bridge, clock } = telemetryBridge();
    const exposition = new Set(
      [...prometheusText(bridge).matchAll(/^# TYPE (\S+) /gm)].map((match) => match[1] as string),
    );
    const reader = new CollectingReader();
    const provider = new MeterProvider({ readers: [reader] });
    const instrumentation = instrumentBridge(bridge, { meter: provider.getMeter(METER_NAME) });
    registerFlakyTool(bridge, 1); // one failed attempt, one retry, one success: every instrument records
    const call = bridge.callTool('flaky', {});
    await clock.advance(10_000);
    expect(await call).toMatchObject({ success: true });
    const { resourceMetrics } = await reader.collect();
    const otel = new Set(
      resourceMetrics.scopeMetrics
        .flatMap((scope) => scope.metrics)
        .flatMap((metric) => prometheusNames(metric.descriptor, metric.dataPointType)),
    );
    instrumentation.stop();
    await provider.shutdown();
    expect(otel).toContain('mcp_lifeline_attempt_duration_milliseconds_bucket');

    const used = new Set(dashboardQueries().flatMap((expr) => expr.match(/\bmcp_lifeline_[a-z_]+/g) ?? []));
    expect(used.size).toBeGreaterThanOrEqual(8);
    const unknown = [...used].filter((name) => !exposition.has(name) && !otel.has(name));
    expect(unknown, `known: ${[...exposition, ...otel].join(', ')}`).toEqual([]);
  });

  it('has panels for breaker states, retries, the retry budget and tool latency', () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: Panel[] };
    const titles = dashboard.panels.map((panel) => panel.title.toLowerCase());
    for (const topic of ['breaker state', 'retries', 'retry budget', 'latency'])
      expect(
        titles.some((title) => title.includes(topic)),
        topic,
      ).toBe(true);
  });
});
