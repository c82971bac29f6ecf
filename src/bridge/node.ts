/**
 * Node-only entry: `createNodeBridge` gives the socket backends `ws` as their WebSocket. Kept apart
 * from `./create-bridge.ts` so that browser builds never import `ws`.
 */
import { NodeWebSocket } from '../backends/node-websocket.js';
import { createBridge } from './create-bridge.js';
import type { Bridge, BridgeConfig } from './types.js';

/** `createBridge` with `ws` as the WebSocket constructor (unless `config.WebSocket` is given). */
export function createNodeBridge(config: BridgeConfig = {}): Bridge {
  return createBridge({ WebSocket: NodeWebSocket, ...config });
}
