/*
 * The WebSocket backend (re-exports): the runtime around `socketMachine` lives in ./websocket/ —
 * connection.ts (machine wiring), link.ts (the socket, connection attempts), outbox.ts (queue,
 * confirmation, redelivery), requests.ts (correlation, timeouts), settings.ts (options and defaults),
 * health.ts, frames.ts (parsing, size and depth limits, error words) and types.ts (options, stats,
 * the `SocketBackend` interface).
 */
import { SocketBackendImpl } from './websocket/connection.js';
import type { SocketBackend, SocketBackendOptions } from './websocket/types.js';

export { safeUrl } from './websocket/frames.js';
export type {
  DeliveryPromise,
  SocketBackend,
  SocketBackendOptions,
  SocketBackendStats,
  SocketHeartbeatOptions,
  SocketLogger,
  SocketRequestOptions,
  WebSocketConstructor,
  WebSocketLike,
} from './websocket/types.js';

/**
 * Creates a WebSocket backend: one `socketMachine` actor, one breaker of its own, a bounded send
 * queue and request/reply correlation by `requestId`. Call `start()` to connect.
 */
export function createSocketBackend(options: SocketBackendOptions): SocketBackend {
  return new SocketBackendImpl(options);
}
