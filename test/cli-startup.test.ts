/**
 * Start-up of the CLI's long-running commands: a busy default port moves `start` to the next free
 * one (and the banner says so); a busy port given with its flag fails naming the flag; `serve`
 * reports a busy --http port as its only line (no stray backend "→ STOPPED" line first); `lab`
 * names its error once ("lab:" not doubled); `start` logs a breaker recovery at info, a trip at warn.
 */

import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { choosePort, isPortFree } from '../src/cli/ports.js';
import { type CliIO, main } from '../src/cli.js';
import { waitFor, writeFastConfig } from './e2e/helpers.js';

const EMPTY_DIR = mkdtempSync(join(tmpdir(), 'mcp-lifeline-startup-'));
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Occupies `port` on 127.0.0.1 (if something else already holds it, it is busy all the same). */
async function occupy(port: number): Promise<void> {
  const server = net.createServer();
  await new Promise<void>((resolve) => {
    server.once('error', () => resolve());
    server.listen(port, '127.0.0.1', () => resolve());
  });
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  expect(await isPortFree('127.0.0.1', port)).toBe(false);
}

async function busyPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return (server.address() as net.AddressInfo).port;
}

function runInProcess(argv: string[]) {
  const output = { stdout: '', stderr: '' };
  const controller = new AbortController();
  const io: CliIO = {
    stdout: (text) => {
      output.stdout += text;
    },
    stderr: (text) => {
      output.stderr += text;
    },
    env: {},
    cwd: EMPTY_DIR,
    isTTY: false,
    handleSignals: false,
    signal: controller.signal,
  };
  const exit = main(argv, io);
  cleanups.push(async () => {
    controller.abort();
    await exit;
  });
  return { output, exit, stop: () => controller.abort() };
}

describe('ports', () => {
  it('choosePort: a free default is kept, a busy default moves up, a busy flag names the flag', async () => {
    const busy = await busyPort();
    const moved = await choosePort('127.0.0.1', '--ws-port', undefined, busy);
    expect(moved.busyDefault).toBe(busy);
    expect(moved.port).not.toBe(busy);
    await expect(choosePort('127.0.0.1', '--ws-port', busy, 8765)).rejects.toThrow(/--ws-port/);
    expect(await choosePort('127.0.0.1', '--port', 0, 8790)).toEqual({ port: 0 });
  });

  it('start with 8765 in use takes the next free port, prints the URLs used, and runs', async () => {
    await occupy(8765);
    const run = runInProcess(['start', '--config', writeFastConfig()]);
    await waitFor(
      () => /health pass \|/.test(run.output.stdout),
      30_000,
      `a passing health line: ${run.output.stderr}`,
    );
    const wsPort = Number(/lab evolution\s+ws:\/\/127\.0\.0\.1:(\d+)\//.exec(run.output.stdout)?.[1]);
    expect(wsPort).toBeGreaterThan(0);
    expect(wsPort).not.toBe(8765);
    expect(run.output.stdout).toContain(`port 8765 was in use: took ${wsPort}; --ws-port N chooses one`);

    // A breaker's trip is a warning, its recovery is info.
    const control = /lab control\s+(\S+)\s+\(Authorization: Bearer (\S+)\)/.exec(run.output.stdout);
    expect(control).not.toBeNull();
    const [, url, token] = control as RegExpExecArray;
    const fault = (down: boolean) =>
      fetch(`${url}/faults/evolution`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ down }),
      });
    expect((await fault(true)).status).toBe(200);
    await waitFor(
      () => /\[warn\] bridge: breaker of evolution tripped/.test(run.output.stderr),
      20_000,
      'a trip',
    );
    expect((await fault(false)).status).toBe(200);
    await waitFor(
      () => /\[info\] bridge: breaker of evolution recovered/.test(run.output.stderr),
      20_000,
      `a recovery at info: ${run.output.stderr}`,
    );
    expect(run.output.stderr).not.toMatch(/\[warn\] bridge: breaker of evolution recovered/);
    run.stop();
    expect(await run.exit).toBe(0);
  }, 60_000);

  it('start with a busy port given by its flag fails naming the flag', async () => {
    const busy = await busyPort();
    const run = runInProcess(['start', '--ws-port', String(busy)]);
    expect(await run.exit).toBe(2);
    expect(run.output.stderr).toContain(`port ${busy} on 127.0.0.1 is in use: give --ws-port another port`);
  });
});

describe('start-up errors', () => {
  it('serve --http on a busy port: one line naming --http, no backend line before it', async () => {
    const busy = await busyPort();
    const run = runInProcess(['serve', '--http', `127.0.0.1:${busy}`]);
    expect(await run.exit).toBe(1);
    expect(run.output.stderr).toBe(
      `mcp-lifeline serve: port ${busy} on 127.0.0.1 is in use: give --http another HOST:PORT\n`,
    );
  });

  it('lab on a busy port names the error once (no "lab: lab:")', async () => {
    const busy = await busyPort();
    const run = runInProcess(['lab', '--ws-port', String(busy)]);
    expect(await run.exit).toBe(1);
    expect(run.output.stderr).toContain(`mcp-lifeline lab: cannot listen on 127.0.0.1:${busy}`);
    expect(run.output.stderr).not.toContain('lab: lab:');
  });
});
