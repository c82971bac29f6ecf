/*
 * A real OTLP/HTTP receiver on 127.0.0.1 for the tests: accepts `POST /v1/metrics` and
 * `POST /v1/traces` with JSON bodies (what `@opentelemetry/exporter-*-otlp-http` sends), answers 200,
 * and keeps every decoded request. `until(predicate)` resolves on the request that makes the
 * predicate true (checked on arrival: no polling).
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OtlpRequest {
  path: string;
  contentType: string | undefined;
  body: unknown;
}

export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
}

export interface OtlpReceiver {
  /** `http://127.0.0.1:PORT` (the value for `OTEL_EXPORTER_OTLP_ENDPOINT`). */
  readonly url: string;
  readonly requests: readonly OtlpRequest[];
  /** Every span received so far, attributes flattened to plain values. */
  spans(): OtlpSpan[];
  /** Every metric name received so far, with its resource's `service.name`. */
  metricNames(): Array<{ service: unknown; name: string }>;
  /** Resolves once `check()` is true (now or after a later request); rejects after `timeoutMs`. */
  until(check: () => boolean, timeoutMs: number, what: string): Promise<void>;
  close(): Promise<void>;
}

interface KeyValue {
  key: string;
  value: Record<string, unknown>;
}

/** An OTLP `AnyValue` as a plain value. */
function plain(value: Record<string, unknown> | undefined): unknown {
  if (!value) return undefined;
  if ('stringValue' in value) return value.stringValue;
  if ('intValue' in value) return Number(value.intValue);
  if ('doubleValue' in value) return value.doubleValue;
  if ('boolValue' in value) return value.boolValue;
  return value;
}

export function attributesOf(list: readonly KeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, plain(kv.value)]));
}

function read(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => {
      text += chunk;
    });
    request.once('end', () => resolve(text));
    request.once('error', reject);
  });
}

/** Starts a receiver on 127.0.0.1 (`port` 0: a free one). */
export async function startOtlpReceiver(port = 0): Promise<OtlpReceiver> {
  const requests: OtlpRequest[] = [];
  const waiters = new Set<() => void>();
  const server = createServer(async (request, response) => {
    const text = await read(request);
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // kept as text: the assertions will say what arrived
    }
    requests.push({ path: request.url ?? '', contentType: request.headers['content-type'], body });
    response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    for (const waiter of [...waiters]) waiter();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const { port: bound } = server.address() as AddressInfo;

  const spans = (): OtlpSpan[] =>
    requests
      .filter((r) => r.path === '/v1/traces')
      .flatMap((r) =>
        (
          (r.body as { resourceSpans?: Array<{ scopeSpans?: Array<{ spans?: unknown[] }> }> })
            .resourceSpans ?? []
        )
          .flatMap((rs) => rs.scopeSpans ?? [])
          .flatMap((ss) => (ss.spans ?? []) as Array<OtlpSpan & { attributes: KeyValue[] }>)
          .map((span) => ({ ...span, attributes: attributesOf(span.attributes) })),
      );

  const metricNames = () =>
    requests
      .filter((r) => r.path === '/v1/metrics')
      .flatMap((r) =>
        (
          (
            r.body as {
              resourceMetrics?: Array<{
                resource?: { attributes?: KeyValue[] };
                scopeMetrics?: Array<{ metrics?: Array<{ name: string }> }>;
              }>;
            }
          ).resourceMetrics ?? []
        ).flatMap((rm) => {
          const service = attributesOf(rm.resource?.attributes)['service.name'];
          return (rm.scopeMetrics ?? []).flatMap((sm) =>
            (sm.metrics ?? []).map((m) => ({ service, name: m.name })),
          );
        }),
      );

  return {
    url: `http://127.0.0.1:${bound}`,
    requests,
    spans,
    metricNames,
    until(check, timeoutMs, what) {
      if (check()) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const waiter = () => {
          if (!check()) return;
          waiters.delete(waiter);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`OTLP receiver: timed out after ${timeoutMs} ms waiting for ${what}`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
