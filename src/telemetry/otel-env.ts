/*
 * What the standard OpenTelemetry environment variables ask the CLI to export, decided without
 * loading any SDK: nothing unless an OTLP endpoint is set (`OTEL_EXPORTER_OTLP_ENDPOINT`, or the
 * signal's own `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`), and
 * nothing at all with `OTEL_SDK_DISABLED=true`. `OTEL_METRICS_EXPORTER=none` / `OTEL_TRACES_EXPORTER=none`
 * turn one signal off.
 */

/** Default `service.name` when `OTEL_SERVICE_NAME` is not set. */
export const DEFAULT_SERVICE_NAME = 'mcp-lifeline';
/** Default metric export interval (the specification's 60 s). */
export const DEFAULT_METRIC_EXPORT_INTERVAL_MS = 60_000;

/** The exports to set up: OTLP/HTTP (JSON) URLs per signal. */
export interface OtelExportPlan {
  serviceName: string;
  /** Full URL of the metrics endpoint (`…/v1/metrics`), or undefined for no metrics. */
  metricsUrl: string | undefined;
  /** Full URL of the traces endpoint (`…/v1/traces`), or undefined for no traces. */
  tracesUrl: string | undefined;
  metricExportIntervalMs: number;
}

type Env = Readonly<Record<string, string | undefined>>;

const set = (value: string | undefined): value is string => value !== undefined && value.trim() !== '';

/** `base` + `/v1/<signal>`, as the specification builds a signal URL from the general endpoint. */
function signalUrl(base: string, signal: 'metrics' | 'traces'): string {
  return `${base.trim().replace(/\/+$/, '')}/v1/${signal}`;
}

function positiveInt(value: string | undefined, fallback: number): number {
  if (!set(value)) return fallback;
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

/** What `env` asks for, or undefined when nothing is to be installed. */
export function otelExportPlan(env: Env): OtelExportPlan | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined;
  const general = env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const pick = (signal: 'metrics' | 'traces'): string | undefined => {
    const exporter = env[signal === 'metrics' ? 'OTEL_METRICS_EXPORTER' : 'OTEL_TRACES_EXPORTER'];
    if (exporter?.trim().toLowerCase() === 'none') return undefined;
    const own = env[`OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_ENDPOINT`];
    if (set(own)) return own.trim();
    return set(general) ? signalUrl(general, signal) : undefined;
  };
  const metricsUrl = pick('metrics');
  const tracesUrl = pick('traces');
  if (metricsUrl === undefined && tracesUrl === undefined) return undefined;
  return {
    serviceName: set(env.OTEL_SERVICE_NAME) ? env.OTEL_SERVICE_NAME.trim() : DEFAULT_SERVICE_NAME,
    metricsUrl,
    tracesUrl,
    metricExportIntervalMs: positiveInt(env.OTEL_METRIC_EXPORT_INTERVAL, DEFAULT_METRIC_EXPORT_INTERVAL_MS),
  };
}
