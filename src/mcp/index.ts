/** The MCP surface (Node): server factory, stdio and Streamable HTTP transports. */
export {
  isLoopbackHost,
  MCP_HTTP_PATH,
  type McpHttpOptions,
  type McpHttpServer,
  startMcpHttpServer,
} from './http.js';
export {
  createMcpServer,
  MCP_SURFACE,
  type McpServerOptions,
  toCallToolResult,
  toMcpTool,
} from './server.js';
export { type McpStdioServer, serveMcpStdio } from './stdio.js';
