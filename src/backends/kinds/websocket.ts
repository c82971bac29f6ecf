/** The `websocket` backend kind: `{ kind: 'websocket', url: 'ws://…', options? }` → `createSocketBackend`. */
import { z } from 'zod';
import type { BackendKindPlugin } from '../kind.js';
import { createSocketBackend, type SocketBackendOptions, type WebSocketConstructor } from '../socket.js';
import { CONSECUTIVE_RULE } from './breaker-rules.js';
import {
  backendOptionsSetting,
  breakerSetting,
  commonBackendSettings,
  urlSetting,
  withBreakerRule,
} from './schema.js';

export const websocketConfigSchema = z.strictObject({
  kind: z.literal('websocket'),
  /** ws:// or wss://. */
  url: urlSetting(['ws:', 'wss:']),
  ...commonBackendSettings,
  /** `createSocketBackend` options (reconnect `retry`, `breaker`, `heartbeat`, `requestTimeoutMs`, …). */
  options: backendOptionsSetting,
  /** The breaker (`{ rule, failureThreshold, resetTimeoutMs, … }`), over `options.breaker`. */
  breaker: breakerSetting,
});

export type WebSocketBackendConfig = z.infer<typeof websocketConfigSchema>;

/** The `websocket` kind; `WebSocket` is the constructor its backends connect with (default: see `createSocketBackend`). */
export function websocketKind(
  settings: { WebSocket?: WebSocketConstructor } = {},
): BackendKindPlugin<WebSocketBackendConfig> {
  return {
    kind: 'websocket',
    configSchema: websocketConfigSchema,
    defaultBreakerRule: CONSECUTIVE_RULE,
    create(name, config, deps) {
      const given = (config.options ?? {}) as Partial<SocketBackendOptions>;
      const options: SocketBackendOptions = {
        ...(settings.WebSocket ? { WebSocket: settings.WebSocket } : {}),
        ...(deps.inspect ? { inspect: deps.inspect } : {}),
        logger: deps.logger,
        ...given,
        name,
        url: config.url,
        clock: deps.clock,
        random: deps.random,
        critical: deps.critical,
        breaker: withBreakerRule({ ...given.breaker, ...config.breaker }, CONSECUTIVE_RULE),
      };
      if (deps.restore) options.breaker = { ...options.breaker, restore: deps.restore };
      return createSocketBackend(options);
    },
  };
}
