/**
 * Node-only entry: `createNodeBridge` gives the socket backends `ws` as their WebSocket and knows the
 * `mcp` and `webmcp-page` kinds. Kept apart from `./create-bridge.ts` so that browser builds never
 * import `ws`, child_process or playwright.
 */
import { withNodeKinds } from '../backends/node-kinds.js';
import { NodeWebSocket } from '../backends/node-websocket.js';
import { createBridge } from './create-bridge.js';
import type { Bridge, BridgeConfig } from './types.js';

/**
 * `createBridge` with `ws` as the WebSocket constructor (unless `config.WebSocket` is given) and the
 * Node kinds `mcp` and `webmcp-page` known (before `config.kinds`, which may replace them).
 */
export function createNodeBridge(config: BridgeConfig = {}): Bridge {
  return createBridge({ WebSocket: NodeWebSocket, ...config, kinds: withNodeKinds(config.kinds) });
}
