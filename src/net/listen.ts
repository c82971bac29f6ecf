/*
 * Listening on a port, the one way every server of ours does it (lab, inspector, page, MCP over
 * HTTP). No imports: the server is taken by its shape, so this folder stays browser-safe.
 */

/** The part of a `node:http` / `node:net` server that `listen` uses. */
export interface Listenable {
  once(event: 'error', listener: (error: Error) => void): unknown;
  off(event: 'error', listener: (error: Error) => void): unknown;
  listen(port: number, host: string, listening: () => void): unknown;
  address(): { port: number } | string | null;
}

/**
 * Listens on `host:port` (0: any free port) and resolves with the port listened on. A listen error
 * (EADDRINUSE, EACCES…) rejects with the original error, its `code` kept.
 */
export function listen(server: Listenable, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as { port: number }).port);
    });
  });
}
