/*
 * The CLI knows the gateway kinds: `health` with a config naming an `mcp` upstream (the lab MCP
 * server, run with node) waits for it to settle and reports it with its kind; no `kinds` passed.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { type CliIO, main } from '../src/cli.js';
import { LAB_UPSTREAM } from './mcp-support.js';

test('health --json waits for an mcp upstream to be READY and reports its kind', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cli-gateway-'));
  const file = join(dir, 'config.json');
  const off = { enabled: false };
  writeFileSync(
    file,
    JSON.stringify({
      backends: {
        evolution: off,
        agents: off,
        a2a: off,
        lmStudio: off,
        up: { kind: 'mcp', command: process.execPath, args: [LAB_UPSTREAM] },
      },
    }),
  );
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    env: {},
    cwd: dir,
    isTTY: false,
    handleSignals: false,
  };
  const code = await main(['health', '--json', '--config', file, '--timeout', '20000'], io);
  expect(stderr).toBe('');
  expect(code).toBe(0);
  const report = JSON.parse(stdout);
  expect(report.backends.up).toMatchObject({ kind: 'mcp', state: 'READY', status: 'pass' });
}, 60_000);
