/*
 * Test helpers shared by the integration tests: a free loopback port and polling for a condition.
 * Real I/O and real time; never a fixed sleep where a condition can be awaited.
 */
import { createServer } from 'node:net';

/** A free loopback TCP port (bound once, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Polls `check` every 10 ms until it is true; throws `timed out waiting for <what>` after `timeoutMs`. */
export async function until(check: () => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
