/*
 * MCP over stdio (Node only): stdout carries the protocol, so nothing else may be written to it.
 * The SDK's `serveStdio` picks the era from the client's opening message (`initialize` for
 * 2025-11-25, `server/discover` for 2026-07-28) and pins one server instance to the connection.
 */
import { type StdioServerHandle, StdioServerTransport, serveStdio } from '@modelcontextprotocol/server/stdio';
import type { Bridge } from '../bridge/types.js';
import { createMcpServer, MCP_SURFACE, type McpServerOptions } from './server.js';

export interface McpStdioServer {
  /** Resolves when the client closes the connection (stdin ends) or `close()` is called. */
  readonly closed: Promise<void>;
  close(): Promise<void>;
}

/** Serves the bridge's tools over stdio (`process.stdin` / `process.stdout` unless given), both eras. */
export async function serveMcpStdio(
  bridge: Bridge,
  options: McpServerOptions & { stdin?: NodeJS.ReadableStream; stdout?: NodeJS.WritableStream } = {},
): Promise<McpStdioServer> {
  const { stdin, stdout, surface: surfaceOption, ...serverOptions } = options;
  const surface = surfaceOption ?? MCP_SURFACE;
  const transport = new StdioServerTransport(
    stdin as ConstructorParameters<typeof StdioServerTransport>[0],
    stdout as ConstructorParameters<typeof StdioServerTransport>[1],
  );
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });
  // The entry owns the transport; its close (stdin ended, or `close()`) ends the connection.
  const handle: StdioServerHandle = serveStdio(
    () => createMcpServer(bridge, { ...serverOptions, surface: false }),
    {
      transport,
    },
  );
  const previous = transport.onclose;
  transport.onclose = () => {
    previous?.();
    if (surface !== false) bridge.setSurface(surface, false);
    resolveClosed();
  };
  if (surface !== false) bridge.setSurface(surface, true);
  const input = stdin ?? process.stdin;
  const onEnd = () => {
    void handle.close();
  };
  input.once('end', onEnd);
  input.once('close', onEnd);
  return {
    closed,
    async close() {
      input.off('end', onEnd);
      input.off('close', onEnd);
      await handle.close();
      resolveClosed();
    },
  };
}
