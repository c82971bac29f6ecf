/** What the standard OpenTelemetry environment variables ask the CLI to export (`otelExportPlan`). */
import { describe, expect, it } from 'vitest';
import { DEFAULT_METRIC_EXPORT_INTERVAL_MS, otelExportPlan } from '../src/telemetry/otel-env.js';

describe('otelExportPlan', () => {
  it('installs nothing without an OTLP endpoint, whatever else is set', () => {
    expect(otelExportPlan({})).toBeUndefined();
    expect(otelExportPlan({ OTEL_SERVICE_NAME: 'x', OTEL_METRIC_EXPORT_INTERVAL: '100' })).toBeUndefined();
    expect(otelExportPlan({ OTEL_EXPORTER_OTLP_ENDPOINT: '  ' })).toBeUndefined();
  });

  it('installs nothing with OTEL_SDK_DISABLED=true', () => {
    expect(
      otelExportPlan({ OTEL_SDK_DISABLED: 'TRUE', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }),
    ).toBeUndefined();
  });

  it('builds both signal URLs from the general endpoint, with the defaults', () => {
    expect(
      otelExportPlan({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318/', OTEL_SDK_DISABLED: 'false' }),
    ).toEqual({
      serviceName: 'mcp-lifeline',
      metricsUrl: 'http://127.0.0.1:4318/v1/metrics',
      tracesUrl: 'http://127.0.0.1:4318/v1/traces',
      metricExportIntervalMs: DEFAULT_METRIC_EXPORT_INTERVAL_MS,
    });
  });

  it('takes a signal endpoint as it is, and only that signal', () => {
    expect(otelExportPlan({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://h:1/custom' })).toMatchObject({
      metricsUrl: undefined,
      tracesUrl: 'http://h:1/custom',
    });
    expect(
      otelExportPlan({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://h:1',
        OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://m:2/v1/metrics',
        OTEL_SERVICE_NAME: 'svc',
        OTEL_METRIC_EXPORT_INTERVAL: '250',
      }),
    ).toEqual({
      serviceName: 'svc',
      metricsUrl: 'http://m:2/v1/metrics',
      tracesUrl: 'http://h:1/v1/traces',
      metricExportIntervalMs: 250,
    });
  });

  it('turns a signal off with OTEL_<SIGNAL>_EXPORTER=none, and ignores a bad interval', () => {
    expect(
      otelExportPlan({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://h:1',
        OTEL_TRACES_EXPORTER: 'none',
        OTEL_METRIC_EXPORT_INTERVAL: 'soon',
      }),
    ).toMatchObject({ tracesUrl: undefined, metricExportIntervalMs: DEFAULT_METRIC_EXPORT_INTERVAL_MS });
    expect(
      otelExportPlan({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://h:1',
        OTEL_TRACES_EXPORTER: 'none',
        OTEL_METRICS_EXPORTER: 'none',
      }),
    ).toBeUndefined();
  });
});
