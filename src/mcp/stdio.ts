/** MCP over stdio (Node only): stdout carries the protocol, so nothing else may be written to it. */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Bridge } from '../bridge/types.js';
import { createMcpServer, type McpServerOptions } from './server.js';

export interface McpStdioServer {
  /** Resolves when the client closes the connection (stdin ends) or `close()` is called. */
  readonly closed: Promise<void>;
  close(): Promise<void>;
}

/** Serves the bridge's tools over stdio (`process.stdin` / `process.stdout` unless given). */
export async function serveMcpStdio(
  bridge: Bridge,
  options: McpServerOptions & { stdin?: NodeJS.ReadableStream; stdout?: NodeJS.WritableStream } = {},
): Promise<McpStdioServer> {
  const { stdin, stdout, ...serverOptions } = options;
  const server = createMcpServer(bridge, serverOptions);
  const transport = new StdioServerTransport(
    stdin as ConstructorParameters<typeof StdioServerTransport>[0],
    stdout as ConstructorParameters<typeof StdioServerTransport>[1],
  );
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });
  const previous = server.server.onclose;
  server.server.onclose = () => {
    previous?.();
    resolveClosed();
  };
  await server.connect(transport);
  // StdioServerTransport does not notice the end of stdin by itself.
  const input = stdin ?? process.stdin;
  const onEnd = () => {
    void server.close();
  };
  input.once('end', onEnd);
  input.once('close', onEnd);
  return {
    closed,
    async close() {
      input.off('end', onEnd);
      input.off('close', onEnd);
      await server.close();
    },
  };
}
