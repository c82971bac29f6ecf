/** The `http` backend kind: `{ kind: 'http', url: 'http://…', options? }` → `createHttpBackend`. */
import { z } from 'zod';
import { createHttpBackend, type FetchLike, type HttpBackendOptions } from '../http.js';
import type { BackendKindPlugin } from '../kind.js';
import { FAILURE_RATE_RULE } from './breaker-rules.js';
import {
  backendOptionsSetting,
  breakerSetting,
  commonBackendSettings,
  throttleSetting,
  urlSetting,
  withBreakerRule,
} from './schema.js';

export const httpConfigSchema = z.strictObject({
  kind: z.literal('http'),
  /** The base URL (http:// or https://), e.g. `http://localhost:1234/v1`. */
  url: urlSetting(['http:', 'https:']),
  ...commonBackendSettings,
  /** `createHttpBackend` options (`probePath`, `requestTimeoutMs`, `retry`, `breaker`, `headers`, …). */
  options: backendOptionsSetting,
  /** Adaptive throttling (`{ k, windowMs, minimumRequests }`), or `false`. On by default. */
  throttle: throttleSetting,
  /** The breaker (`{ rule, failureThreshold, resetTimeoutMs, … }`), over `options.breaker`. */
  breaker: breakerSetting,
});

export type HttpBackendConfig = z.infer<typeof httpConfigSchema>;

/** The `http` kind; `fetch` is what its backends send with (default `globalThis.fetch`). */
export function httpKind(settings: { fetch?: FetchLike } = {}): BackendKindPlugin<HttpBackendConfig> {
  return {
    kind: 'http',
    configSchema: httpConfigSchema,
    defaultBreakerRule: FAILURE_RATE_RULE,
    create(name, config, deps) {
      const given = (config.options ?? {}) as Partial<HttpBackendOptions>;
      const options: HttpBackendOptions = {
        ...(settings.fetch ? { fetch: settings.fetch } : {}),
        ...(deps.inspect ? { inspect: deps.inspect } : {}),
        logger: deps.logger,
        ...given,
        retry: {
          metrics: deps.retryMetrics,
          budget: deps.budget,
          ...(given.retry ?? {}),
          onRetry: deps.events.onRetry(name, 'backend', given.retry?.onRetry),
        },
        name,
        baseUrl: config.url,
        clock: deps.clock,
        random: deps.random,
        critical: deps.critical,
        ...(config.throttle === undefined ? {} : { throttle: config.throttle }),
        breaker: withBreakerRule({ ...given.breaker, ...config.breaker }, FAILURE_RATE_RULE),
      };
      if (deps.restore) options.breaker = { ...options.breaker, restore: deps.restore };
      return createHttpBackend(options);
    },
  };
}
