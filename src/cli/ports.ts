/**
 * Ports for `start`: a default port that is in use moves to the next free one; a port given with
 * its flag must be free, or the start fails with a message naming the flag.
 */
import net from 'node:net';
import { UsageError } from './args.js';

/** Whether `port` on `host` can be listened on right now. */
export function isPortFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

export interface PortChoice {
  port: number;
  /** The default that was in use, when the port moved. */
  busyDefault?: number;
}

/**
 * The port to listen on: `given` (from `flag`) when free — else a `UsageError` naming the flag —;
 * with no flag the first free port from `fallback` up (`tries` ports), or 0 (any free port).
 */
export async function choosePort(
  host: string,
  flag: string,
  given: number | undefined,
  fallback: number,
  tries = 20,
): Promise<PortChoice> {
  if (given !== undefined) {
    if (given === 0 || (await isPortFree(host, given))) return { port: given };
    throw new UsageError(
      `port ${given} on ${host} is in use: give ${flag} another port, or ${flag} 0 for any free one`,
    );
  }
  if (fallback === 0) return { port: 0 };
  for (let port = fallback; port < fallback + tries && port <= 65_535; port++) {
    if (await isPortFree(host, port)) return port === fallback ? { port } : { port, busyDefault: fallback };
  }
  return { port: 0, busyDefault: fallback };
}
