/**
 * A Chromium the way a user runs it for a `webmcp-page` backend: its own process (not launched by
 * Playwright) with remote debugging on a loopback port and native WebMCP. `/usr/bin/chromium` is a
 * shell wrapper, so it is started detached and stopped by killing its whole process group; every
 * launch gets a fresh profile (a killed browser leaves a profile lock).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM_ARGS } from './chromium.js';
import { freePort } from './net.js';

export { freePort };

export interface CdpChromium {
  /** `http://127.0.0.1:<port>`, the `cdpUrl` of a backend. */
  readonly cdpUrl: string;
  /** Kills the browser's process group (SIGKILL: as a crash would) and removes its profile. */
  kill(): Promise<void>;
}

/** Starts Chromium with `--remote-debugging-port=port`; resolves once its CDP endpoint answers. */
export async function launchCdpChromium(
  executable: string,
  port: number,
  timeoutMs = 30_000,
): Promise<CdpChromium> {
  const profile = mkdtempSync(join(tmpdir(), 'mcp-lifeline-cdp-'));
  const child: ChildProcess = spawn(
    executable,
    [
      ...CHROMIUM_ARGS,
      '--enable-features=WebMCPTesting',
      `--remote-debugging-port=${port}`,
      '--remote-debugging-address=127.0.0.1',
      `--user-data-dir=${profile}`,
      'about:blank',
    ],
    { detached: true, stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const cdpUrl = `http://127.0.0.1:${port}`;
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      await exited;
    }
    rmSync(profile, { recursive: true, force: true });
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(`${cdpUrl}/json/version`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline || child.exitCode !== null) {
      await kill();
      throw new Error(`Chromium did not open its CDP port ${port} within ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { cdpUrl, kill };
}
