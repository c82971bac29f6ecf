/*
 * The MCP surface: an `McpServer` (official SDK) with every bridge tool registered.
 *
 * Input validation is the bridge's, not the SDK's: `registerTool` is given a permissive object
 * (`z.looseObject({})`) whose JSON Schema metadata is the tool's own schema, so `tools/list` shows
 * the real schema while bad arguments still reach `bridge.callTool` and come back as
 * `{ success: false, error_code: 'INVALID_INPUT', field }` — the same answer WebMCP gives — rather
 * than the SDK's own "Input validation error" text. For the same reason `tools/call` is answered by
 * the bridge for every name, so an unknown tool is `INVALID_INPUT` with `field: 'name'` too (the SDK
 * would answer "Tool … not found"). Add tools with `bridge.registerTool` before creating the server.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { CallToolRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { Bridge, ToolDescriptor, ToolResult } from '../bridge/types.js';

/** Surface name given to `bridge.setSurface` while an MCP server is connected to a transport. */
export const MCP_SURFACE = 'mcp';

export interface McpServerOptions {
  /** Server name in the MCP handshake. Default 'mcp-lifeline'. */
  name?: string;
  /** Server version in the MCP handshake. Default '0.0.0'. */
  version?: string;
  /** Surface name for `bridge.setSurface`. Default 'mcp'; `false` leaves the health line alone. */
  surface?: string | false;
}

/** The MCP tool result for a bridge `ToolResult`. */
export function toCallToolResult(result: ToolResult): CallToolResult {
  return {
    content: [{ type: 'text', text: JSON.stringify(result) }],
    structuredContent: result as Record<string, unknown>,
    isError: !result.success,
  };
}

/** A permissive zod object that lists as the tool's JSON Schema. */
function listingSchema(descriptor: ToolDescriptor): z.ZodObject {
  const { $schema: _ignored, ...jsonSchema } = descriptor.inputSchema;
  return z.looseObject({}).meta(jsonSchema);
}

/**
 * Creates an MCP server exposing the bridge's tools. While the server is connected to a transport,
 * the bridge's surface `options.surface` ('mcp') is up, so the `webmcp` health line passes.
 */
export function createMcpServer(bridge: Bridge, options: McpServerOptions = {}): McpServer {
  const server = new McpServer(
    { name: options.name ?? 'mcp-lifeline', version: options.version ?? '0.0.0' },
    { capabilities: { tools: {} } },
  );
  for (const descriptor of bridge.listTools()) {
    const name = descriptor.name;
    server.registerTool(
      name,
      { description: descriptor.description, inputSchema: listingSchema(descriptor) },
      async (args: Record<string, unknown>) => toCallToolResult(await bridge.callTool(name, args ?? {})),
    );
  }
  // Replaces the SDK's tools/call handler (installed by the first registerTool): same answers for
  // known tools, the bridge's INVALID_INPUT for unknown ones.
  server.server.setRequestHandler(CallToolRequestSchema, async (request) =>
    toCallToolResult(await bridge.callTool(request.params.name, request.params.arguments ?? {})),
  );
  const surface = options.surface ?? MCP_SURFACE;
  if (surface !== false) {
    const inner = server.server;
    const connect = server.connect.bind(server);
    server.connect = async (transport) => {
      await connect(transport);
      bridge.setSurface(surface, true);
    };
    const previousOnClose = inner.onclose;
    inner.onclose = () => {
      bridge.setSurface(surface, false);
      previousOnClose?.();
    };
  }
  return server;
}
