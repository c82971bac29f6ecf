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
export type { Backend, BackendHealth, BackendKind, HealthStatus } from './types.js';
