/*
 * Installs the OpenTelemetry Node SDK for the CLI (`serve`, `start`) when the standard environment
 * asks for it (see `otelExportPlan`): a MeterProvider exporting the bridge's instruments
 * (`instrumentBridge`) and a TracerProvider exporting the tool-call spans, both over OTLP/HTTP (JSON).
 * The SDK packages are imported only then: without the variables, none of them is loaded.
 */
import type { Bridge } from '../bridge/types.js';
import { instrumentBridge, METER_NAME } from './otel.js';
import { type OtelExportPlan, otelExportPlan } from './otel-env.js';

/** What {@link installOpenTelemetry} installed. */
export interface OpenTelemetryHandle {
  readonly plan: OtelExportPlan;
  /** Exports what is pending, then stops the providers. Idempotent; never rejects. */
  shutdown(): Promise<void>;
}

export interface InstallOpenTelemetryOptions {
  /** `service.version` of the resource. */
  version?: string;
  /** Told when an export fails (the SDK's own diagnostics stay off). */
  onError?: (message: string) => void;
}

type InstrumentedBridge = Parameters<typeof instrumentBridge>[0];

/**
 * Installs the SDK as `env` asks, registers it globally (meter provider, tracer provider, an
 * AsyncLocalStorage context manager) and instruments `bridge`. Resolves undefined, having imported
 * nothing, when no OTLP endpoint is set or `OTEL_SDK_DISABLED=true`.
 */
export async function installOpenTelemetry(
  env: Readonly<Record<string, string | undefined>>,
  bridge: InstrumentedBridge | Bridge,
  options: InstallOpenTelemetryOptions = {},
): Promise<OpenTelemetryHandle | undefined> {
  const plan = otelExportPlan(env);
  if (!plan) return undefined;
  const [api, { resourceFromAttributes }] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/resources'),
  ]);
  const resource = resourceFromAttributes({
    'service.name': plan.serviceName,
    ...(options.version === undefined ? {} : { 'service.version': options.version }),
  });
  const stops: Array<() => Promise<void>> = [];

  if (plan.tracesUrl !== undefined) {
    const [
      { TracerProvider, BatchSpanProcessor },
      { OTLPTraceExporter },
      { AsyncLocalStorageContextManager },
    ] = await Promise.all([
      import('@opentelemetry/sdk-trace'),
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/context-async-hooks'),
    ]);
    const delay = Number(env.OTEL_BSP_SCHEDULE_DELAY);
    const provider = new TracerProvider({
      resource,
      spanProcessors: [
        new BatchSpanProcessor({
          exporter: new OTLPTraceExporter({ url: plan.tracesUrl }),
          ...(Number.isInteger(delay) && delay > 0 ? { scheduledDelayMillis: delay } : {}),
        }),
      ],
    });
    const contextManager = new AsyncLocalStorageContextManager().enable();
    api.context.setGlobalContextManager(contextManager);
    api.trace.setGlobalTracerProvider(provider);
    stops.push(async () => {
      await provider.shutdown();
      api.trace.disable();
      api.context.disable();
    });
  }

  if (plan.metricsUrl !== undefined) {
    const [{ MeterProvider, PeriodicExportingMetricReader }, { OTLPMetricExporter }] = await Promise.all([
      import('@opentelemetry/sdk-metrics'),
      import('@opentelemetry/exporter-metrics-otlp-http'),
    ]);
    const interval = plan.metricExportIntervalMs;
    const provider = new MeterProvider({
      resource,
      readers: [
        new PeriodicExportingMetricReader({
          exporter: new OTLPMetricExporter({ url: plan.metricsUrl }),
          exportIntervalMillis: interval,
          exportTimeoutMillis: Math.min(interval, 30_000),
        }),
      ],
    });
    api.metrics.setGlobalMeterProvider(provider);
    const instrumentation = instrumentBridge(bridge, { meter: provider.getMeter(METER_NAME) });
    stops.push(async () => {
      await provider.shutdown(); // a last collection and export, the bridge still instrumented
      instrumentation.stop();
      api.metrics.disable();
    });
  }

  let stopping: Promise<void> | undefined;
  return {
    plan,
    shutdown() {
      stopping ??= (async () => {
        for (const stop of stops) {
          try {
            await stop();
          } catch (error) {
            options.onError?.(
              `OpenTelemetry shutdown: ${error instanceof Error ? error.message : String(error)}`,
            );
          }
        }
      })();
      return stopping;
    },
  };
}
