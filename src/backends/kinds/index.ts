/*
 * Backend kinds as plug-ins: `websocket` and `http` (built in), the registry the bridge builds its
 * backends from, and the shared config pieces. Imports: the backends beside it and zod; never
 * `../../bridge/` or `../../tools/`.
 */
import type { FetchLike } from '../http.js';
import type { AnyBackendKindPlugin } from '../kind.js';
import type { WebSocketConstructor } from '../socket.js';
import { httpKind } from './http.js';
import { websocketKind } from './websocket.js';

export { type HttpBackendConfig, httpConfigSchema, httpKind } from './http.js';
export {
  type BackendConfigCheck,
  type BackendConfigProblem,
  type BackendKindRegistry,
  backendKindRegistry,
  checkBackendConfig,
} from './registry.js';
export { backendOptionsSetting, commonBackendSettings, EXPECTED_URL, urlSetting } from './schema.js';
export { type WebSocketBackendConfig, websocketConfigSchema, websocketKind } from './websocket.js';

/** The built-in kinds: `websocket` (with `WebSocket`, when given) and `http` (with `fetch`). */
export function builtInKinds(
  settings: { WebSocket?: WebSocketConstructor; fetch?: FetchLike } = {},
): AnyBackendKindPlugin[] {
  return [
    websocketKind(settings.WebSocket ? { WebSocket: settings.WebSocket } : {}),
    httpKind(settings.fetch ? { fetch: settings.fetch } : {}),
  ];
}
