/*
 * Backends: the transports behind the tools (WebSocket daemons, HTTP APIs), the plug-in contract of
 * a backend kind (`./kind.ts`) and the built-in kinds (`./kinds/`). Imports: machines, reliability,
 * telemetry types, the clock; never `../bridge/` or `../tools/`.
 */
export {
  POLICY_CLOSE_CODES,
  type SocketContext,
  type SocketEvent,
  type SocketMachine,
  type SocketState,
  socketMachine,
} from '../../machines/socket.machine.js';
export {
  BackendStoppedError,
  ConnectionLostError,
  FrameTooLargeError,
  QueueFullError,
  RequestTimeoutError,
} from './errors.js';
export {
  type AnyBackendKindPlugin,
  type BackendDeps,
  type BackendKindPlugin,
  type BackendLogger,
  isToolProvider,
  type RemoteCallOptions,
  type RemoteCallResult,
  type RemoteContent,
  type RemoteTool,
  type ToolAnnotations,
  type ToolProvider,
} from './kind.js';
export * from './kinds/index.js';
export {
  createSocketBackend,
  type SocketBackend,
  type SocketBackendOptions,
  type SocketBackendStats,
  type SocketHeartbeatOptions,
  type SocketLogger,
  type SocketRequestOptions,
  type WebSocketConstructor,
  type WebSocketLike,
} from './socket.js';
export type { Backend, BackendHealth, BackendKind, HealthReport, HealthStatus } from './types.js';
