/*
 * The MCP surface: an `McpServer` (official SDK v2, `@modelcontextprotocol/server`) that lists and
 * calls the bridge's tools. The v2 server answers both protocol eras: 2025-11-25 clients (the
 * `initialize` handshake) and 2026-07-28 clients (`server/discover`, per-request envelopes).
 *
 * The server answers `tools/list` and `tools/call` itself, from the bridge's tool registry, so the
 * listing follows the registry (tools registered later, tools a backend discovers) and every change
 * is announced with `notifications/tools/list_changed`. Input validation is the bridge's, not the
 * SDK's: bad arguments come back as `{ success: false, error_code: 'INVALID_INPUT', field }` — the same
 * answer WebMCP gives — and an unknown tool is `INVALID_INPUT` with `field: 'name'`. The request's
 * own signal (the client's `notifications/cancelled`, or the HTTP stream closing) cancels the call.
 * A call whose `_meta` carries a `progressToken` gets `notifications/progress` with that token, sent
 * as related to the request (over HTTP, on the request's own stream).
 * Tools discovered from a backend answer with the backend's own MCP result, unchanged.
 *
 * Imports: the bridge's public types and the tools' result helpers; the SDK.
 */
import { type CallToolResult, McpServer, type Tool } from '@modelcontextprotocol/server';
import type { Bridge, ToolDescriptor, ToolProgress, ToolResult } from '../bridge/types.js';
import { traceContextOf } from '../telemetry/tracing.js';
import { isPassthrough } from '../tools/result.js';

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

/**
 * The MCP tool result for a bridge `ToolResult`: a discovered tool's own result (`passthrough`)
 * unchanged; otherwise the result as JSON text and structured content, `isError` when it failed.
 */
export function toCallToolResult(result: ToolResult): CallToolResult {
  if (isPassthrough(result)) return result.passthrough as CallToolResult;
  return {
    content: [{ type: 'text', text: JSON.stringify(result) }],
    structuredContent: result as Record<string, unknown>,
    isError: !result.success,
  };
}

/** A bridge tool as `tools/list` lists it. */
export function toMcpTool(descriptor: ToolDescriptor): Tool {
  const { $schema: _ignored, ...inputSchema } = descriptor.inputSchema;
  return {
    name: descriptor.name,
    ...(descriptor.title === undefined ? {} : { title: descriptor.title }),
    description: descriptor.description,
    inputSchema: { ...inputSchema, type: 'object' } as Tool['inputSchema'],
    ...(descriptor.outputSchema === undefined
      ? {}
      : { outputSchema: descriptor.outputSchema as Tool['outputSchema'] }),
    ...(descriptor.annotations === undefined
      ? {}
      : {
          annotations: {
            ...(descriptor.title === undefined ? {} : { title: descriptor.title }),
            ...descriptor.annotations,
          },
        }),
  };
}

/**
 * Creates an MCP server exposing the bridge's tools. While the server is connected to a transport,
 * the bridge's surface `options.surface` ('mcp') is up, so the `webmcp` health line passes.
 */
export function createMcpServer(bridge: Bridge, options: McpServerOptions = {}): McpServer {
  const server = new McpServer(
    { name: options.name ?? 'mcp-lifeline', version: options.version ?? '0.0.0' },
    { capabilities: { tools: { listChanged: true } } },
  );
  const inner = server.server;
  inner.setRequestHandler('tools/list', () => ({ tools: bridge.listTools().map(toMcpTool) }));
  inner.setRequestHandler('tools/call', async (request, ctx) => {
    const progressToken = request.params._meta?.progressToken;
    // Progress goes out in order, and before the result (a client drops progress that comes after).
    let sent: Promise<unknown> | undefined;
    const onProgress =
      progressToken === undefined
        ? undefined
        : ({ progress, message, total }: ToolProgress) => {
            const params = { progressToken, progress, message, ...(total === undefined ? {} : { total }) };
            sent = Promise.resolve(sent)
              .then(() => ctx.mcpReq.notify({ method: 'notifications/progress', params }))
              .catch(() => {}); // the client went away: the call's signal tells the tool
          };
    const result = await bridge.callTool(request.params.name, request.params.arguments ?? {}, {
      signal: ctx.mcpReq.signal,
      ...(onProgress && { onProgress }),
      ...traceContextOf(request.params._meta), // W3C trace context → the tools/call span's parent
    });
    if (sent) await sent;
    return toCallToolResult(result);
  });

  // While connected, every change of the bridge's tool list is announced.
  let stopWatching: (() => void) | undefined;
  const connect = server.connect.bind(server);
  const surface = options.surface ?? MCP_SURFACE;
  server.connect = async (transport) => {
    await connect(transport);
    stopWatching ??= bridge.onToolsChanged(() => {
      void Promise.resolve(inner.sendToolListChanged()).catch(() => {});
    });
    if (surface !== false) bridge.setSurface(surface, true);
  };
  const previousOnClose = inner.onclose;
  inner.onclose = () => {
    stopWatching?.();
    stopWatching = undefined;
    if (surface !== false) bridge.setSurface(surface, false);
    previousOnClose?.();
  };
  return server;
}
