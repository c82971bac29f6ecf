/**
 * Node-only: the `ws` WebSocket for socket backends. Kept out of `./socket.ts` so that browser
 * builds never import `ws`; the Node entry passes `NodeWebSocket` in (or `createSocketBackend`
 * loads `ws` lazily on first connect when running in Node).
 */
import { WebSocket } from 'ws';
import {
  createSocketBackend,
  type SocketBackend,
  type SocketBackendOptions,
  type WebSocketConstructor,
} from './socket.js';

export const NodeWebSocket = WebSocket as unknown as WebSocketConstructor;

/** `createSocketBackend` with `ws` as its WebSocket (protocol ping/pong heartbeat). */
export function createNodeSocketBackend(options: SocketBackendOptions): SocketBackend {
  return createSocketBackend({ WebSocket: NodeWebSocket, ...options });
}
