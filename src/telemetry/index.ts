export {
  type AttemptEvent,
  type BreakerTransitionEvent,
  createReliabilityEventHub,
  type ReliabilityEvent,
  type ReliabilityEventHub,
  type ReliabilityEvents,
  type ReliabilityListener,
  type RetryEvent,
  type RetrySource,
  reasonOf,
} from './events.js';
export {
  createJsonLogger,
  type JsonLoggerOptions,
  type LineSink,
  type LogFields,
  type LogFn,
  type LogLevel,
  logReliabilityEvents,
  REDACTED,
  redact,
  redactText,
  reliabilityLogLine,
  type StructuredLogger,
  toBridgeLogger,
} from './logger.js';
export {
  ATTEMPT_DURATION_BUCKETS_MS,
  attemptLabel,
  type BridgeInstrumentation,
  INSTRUMENTS,
  type InstrumentBridgeOptions,
  instrumentBridge,
  METER_NAME,
} from './otel.js';
export {
  DEFAULT_METRIC_EXPORT_INTERVAL_MS,
  DEFAULT_SERVICE_NAME,
  type OtelExportPlan,
  otelExportPlan,
} from './otel-env.js';
export {
  escapeLabelValue,
  METRICS_PATH,
  PROMETHEUS_CONTENT_TYPE,
  prometheusText,
  renderPrometheus,
} from './prometheus.js';
export {
  contextFromTraceparent,
  SPAN_ATTRIBUTES,
  setToolBackend,
  type ToolCallTrace,
  TRACER_NAME,
  traceAttempts,
  traceContextOf,
  traceToolCall,
} from './tracing.js';
