/**
 * Node-only additions to the package entry: `ws` for sockets, config files and the environment,
 * the MCP server, and the lab backends.
 */

export * from './backends/mcp/index.js';
export { nodeKinds, withNodeKinds } from './backends/node-kinds.js';
export { createNodeSocketBackend, NodeWebSocket } from './backends/node-websocket.js';
export * from './backends/webmcp-page/index.js';
export { loadPlaywright, PlaywrightMissingError } from './backends/webmcp-page/playwright.js';
export { createNodeBridge } from './bridge/node.js';
export { loadConfig } from './config.js';
export * from './index.js';
export { startLab } from './lab/index.js';
export { createMcpServer, toCallToolResult, toMcpTool } from './mcp/server.js';
export * from './persistence/index.js';
export {
  type InstallOpenTelemetryOptions,
  installOpenTelemetry,
  type OpenTelemetryHandle,
} from './telemetry/otel-sdk.js';
