/**
 * The CLI loads only what its command needs: with `vite` unresolvable (as in an installed package,
 * where it is not a dependency) every command's --help, `health` and `serve` still run.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Lab, startLab } from '../src/lab/index.js';
import { childEnv, labEnv, ROOT } from './e2e/helpers.js';

const NO_VITE = ['--import', join(ROOT, 'test/support/no-vite.mjs')];
const BIN = join(ROOT, 'bin/mcp-lifeline.js');

function run(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [...NO_VITE, BIN, ...args], {
      cwd: ROOT,
      env: childEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}

describe('the CLI without vite', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await startLab({ wsPort: 0, httpPort: 0, controlPort: 0 });
  });
  afterAll(async () => {
    await lab?.stop();
  });

  it('the hook really hides vite', async () => {
    const probe = await run(['--version']);
    expect(probe.status).toBe(0);
    const child = spawn(process.execPath, [...NO_VITE, '--input-type=module', '-e', "await import('vite')"], {
      cwd: ROOT,
    });
    const status = await new Promise((resolve) => child.once('close', resolve));
    expect(status).not.toBe(0);
  }, 30_000);

  it.each([['--help'], ['help', 'serve'], ['start', '--help']])(
    '%j exits 0',
    async (...args) => {
      const result = await run(args);
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      expect(result.stdout).toContain('Usage: mcp-lifeline');
    },
    30_000,
  );

  it('health --json answers', async () => {
    const result = await run(['health', '--json', '--timeout', '8000'], labEnv(lab));
    expect(result.status, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ status: 'pass' });
  }, 30_000);

  it('serve lists its tools to the MCP SDK client', async () => {
    const client = new Client({ name: 'no-vite', version: '1.0.0' });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [...NO_VITE, BIN, 'serve'],
        cwd: ROOT,
        env: childEnv(labEnv(lab)),
        stderr: 'pipe',
      }),
    );
    try {
      expect((await client.listTools()).tools.length).toBeGreaterThanOrEqual(6);
    } finally {
      await client.close();
    }
  }, 30_000);
});
