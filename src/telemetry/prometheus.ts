/*
 * The bridge's metrics in the Prometheus text exposition format (version 0.0.4), built from the
 * bridge's own state — breaker `metrics()`, the retry metrics snapshot, `health()` — so `GET /metrics`
 * works without any OpenTelemetry SDK. Names match the OTel instruments of `otel.ts` with dots turned
 * into underscores (and `_total` on counters, base units in seconds).
 */
import type { Bridge } from '../bridge/types.js';
import { BREAKER_STATES, HEALTH_VALUE } from './otel.js';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
export const METRICS_PATH = '/metrics';

type Labels = Record<string, string>;
type MetricType = 'counter' | 'gauge';

interface Family {
  name: string;
  help: string;
  type: MetricType;
  samples: Array<{ labels: Labels; value: number }>;
}

/** A label value escaped as the format requires: backslash, double quote and newline. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

function formatLabels(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  return `{${entries.map(([key, value]) => `${key}="${escapeLabelValue(value)}"`).join(',')}}`;
}

/** Renders families as exposition text: `# HELP`, `# TYPE`, then one `name{labels} value` per sample. */
export function renderPrometheus(families: readonly Family[]): string {
  const lines: string[] = [];
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.type}`);
    for (const sample of family.samples) {
      lines.push(`${family.name}${formatLabels(sample.labels)} ${formatValue(sample.value)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** The bridge's metrics as Prometheus text. */
export function prometheusText(
  bridge: Pick<Bridge, 'health' | 'backend' | 'backendNames' | 'retryMetrics'>,
): string {
  const family = (name: string, type: MetricType, help: string): Family => ({
    name,
    type,
    help,
    samples: [],
  });
  const state = family(
    'mcp_lifeline_circuit_breaker_state',
    'gauge',
    'Circuit breaker state: 1 for the current state of each backend breaker, 0 for the others.',
  );
  const calls = family(
    'mcp_lifeline_circuit_breaker_calls_total',
    'counter',
    'Calls through a backend circuit breaker, by outcome (success, failure, rejected).',
  );
  const notPermitted = family(
    'mcp_lifeline_circuit_breaker_not_permitted_calls_total',
    'counter',
    'Calls refused by an open (or full half-open) circuit breaker without being run.',
  );
  const trips = family(
    'mcp_lifeline_circuit_breaker_trips_total',
    'counter',
    'CLOSED to OPEN transitions of a backend circuit breaker.',
  );
  const consecutive = family(
    'mcp_lifeline_circuit_breaker_consecutive_failures',
    'gauge',
    'Failures counted by a backend circuit breaker since its last success.',
  );
  for (const name of bridge.backendNames()) {
    const breaker = bridge.backend(name)?.breaker;
    if (!breaker) continue;
    const m = breaker.metrics();
    for (const s of BREAKER_STATES)
      state.samples.push({ labels: { backend: name, state: s }, value: m.state === s ? 1 : 0 });
    calls.samples.push(
      { labels: { backend: name, outcome: 'success' }, value: m.totalSuccesses },
      { labels: { backend: name, outcome: 'failure' }, value: m.totalFailures },
      { labels: { backend: name, outcome: 'rejected' }, value: m.rejectedCalls },
    );
    notPermitted.samples.push({ labels: { backend: name }, value: m.rejectedCalls });
    trips.samples.push({ labels: { backend: name }, value: m.tripsCount });
    consecutive.samples.push({ labels: { backend: name }, value: m.consecutiveFailures });
  }

  const retryCalls = family(
    'mcp_lifeline_retry_calls_total',
    'counter',
    'Retried operations (retry() calls) that finished, by operation and outcome (success, failure).',
  );
  const retries = family(
    'mcp_lifeline_retries_total',
    'counter',
    'Retries made (attempts after the first), by operation.',
  );
  const retryDelay = family(
    'mcp_lifeline_retry_delay_seconds_total',
    'counter',
    'Time spent waiting between attempts, by operation.',
  );
  const snapshot = bridge.retryMetrics.snapshot();
  for (const [operation, entry] of Object.entries(snapshot.operations)) {
    retryCalls.samples.push(
      { labels: { operation, outcome: 'success' }, value: entry.successes },
      { labels: { operation, outcome: 'failure' }, value: entry.failures },
    );
    retries.samples.push({
      labels: { operation },
      value: Math.max(0, entry.attempts - entry.successes - entry.failures),
    });
    retryDelay.samples.push({ labels: { operation }, value: entry.totalDelayMs / 1000 });
  }

  const report = bridge.health();
  const health = family(
    'mcp_lifeline_backend_health',
    'gauge',
    'Backend health: 0 = pass, 1 = warn, 2 = fail (labelled with the backend kind).',
  );
  const throttling = family(
    'mcp_lifeline_backend_throttle_reject_probability',
    'gauge',
    'Adaptive throttling: probability that the next request to a backend is rejected locally (0: not throttling).',
  );
  for (const [name, line] of Object.entries(report.backends)) {
    health.samples.push({ labels: { backend: name, kind: line.kind }, value: HEALTH_VALUE[line.status] });
    if (line.rejectProbability !== undefined)
      throttling.samples.push({ labels: { backend: name }, value: line.rejectProbability });
  }
  const overall = family(
    'mcp_lifeline_health',
    'gauge',
    'Overall bridge health: 0 = pass, 1 = warn, 2 = fail.',
  );
  overall.samples.push({ labels: {}, value: HEALTH_VALUE[report.status] });

  return renderPrometheus([
    state,
    calls,
    notPermitted,
    trips,
    consecutive,
    retryCalls,
    retries,
    retryDelay,
    throttling,
    health,
    overall,
  ]);
}
