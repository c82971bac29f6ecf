/*
 * The browser/Node line is enforced, not just documented: Biome's noRestrictedImports (biome.json,
 * `overrides`) refuses Node built-ins, `ws`, `playwright-core` and the MCP stdio server in the
 * browser-safe folders, and lets the Node-only folders use them.
 */
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIOME = join(ROOT, 'node_modules', '@biomejs', 'biome', 'bin', 'biome');

const PROBE = `import { readFileSync } from 'node:fs';
import { WebSocket } from 'ws';
import { chromium } from 'playwright-core';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import path from 'path';

export const probe = [readFileSync, WebSocket, chromium, StdioServerTransport, path];
`;

const BROWSER_SAFE = [
  'machines',
  'src/tools',
  'src/reliability',
  'src/backends',
  'src/backends/websocket',
  'src/bridge',
];
const NODE_ONLY = ['src/cli', 'src/lab', 'src/mcp', 'src/backends/mcp'];

/** Lints a temporary file holding `PROBE` in each folder, in one run; the restricted imports found per folder. */
function restrictedImportsIn(dirs: string[]): Record<string, number> {
  const name = `zz-browser-line-probe-${process.pid}.ts`;
  const files = dirs.map((dir) => join(ROOT, dir, name));
  for (const file of files) writeFileSync(file, PROBE);
  try {
    const run = spawnSync(process.execPath, [BIOME, 'lint', '--max-diagnostics=none', ...files], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    const output = `${run.stdout}${run.stderr}`;
    const found: Record<string, number> = {};
    for (const dir of dirs) {
      const pattern = new RegExp(`${dir}/${name}:\\d+:\\d+ lint/style/noRestrictedImports`, 'g');
      found[dir] = (output.match(pattern) ?? []).length;
    }
    return found;
  } finally {
    for (const file of files) rmSync(file, { force: true });
  }
}

describe('the browser/Node line (Biome noRestrictedImports)', () => {
  it('bites in the browser-safe folders and lets the Node-only ones import Node', () => {
    const found = restrictedImportsIn([...BROWSER_SAFE, ...NODE_ONLY]);
    for (const dir of BROWSER_SAFE) expect(found[dir], dir).toBe(5);
    for (const dir of NODE_ONLY) expect(found[dir], dir).toBe(0);
  }, 60_000);
});
