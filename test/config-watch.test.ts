/*
 * The config watcher of `serve`, on a real file and the real fs watcher: a save is applied once
 * (after the writes settle), a save with the same text is not, an invalid edit is reported naming
 * the field and applies nothing, an editor's write-then-rename save is seen, and settings a reload
 * cannot apply are named. `apply` records what it is given (the bridge side is reconfigure.test.ts).
 */
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { type ConfigWatch, watchConfigFile } from '../src/cli/config-watch.js';
import { type LoadedConfig, loadConfig } from '../src/config.js';
import { waitFor } from './mcp-support.js';

let dir: string;
let file: string;
let watcher: ConfigWatch | undefined;
const applied: LoadedConfig[] = [];
const lines: string[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'config-watch-'));
  file = join(dir, 'mcp-lifeline.config.json');
  applied.length = 0;
  lines.length = 0;
});
afterEach(() => {
  watcher?.close();
  rmSync(dir, { recursive: true, force: true });
});

const write = (value: unknown) => writeFileSync(file, JSON.stringify(value));
const start = () => {
  const load = () => loadConfig({ file, env: {} });
  watcher = watchConfigFile({
    file,
    initial: load(),
    load,
    apply: async (config) => {
      applied.push(config);
      return { added: Object.keys(config.backends ?? {}), removed: [], restarted: [], unchanged: [] };
    },
    log: (line) => lines.push(line),
    debounceMs: 50,
  });
};
const http = (url: string) => ({ kind: 'http', url });

test('a save is applied once; the same text again is not; a bad edit names the field', async () => {
  write({ backends: { a: http('http://127.0.0.1:9/v1') } });
  start();
  write({ backends: { a: http('http://127.0.0.1:9/v1'), b: http('http://127.0.0.1:10/v1') } });
  await waitFor(() => applied.length === 1, 10_000, 'the reload');
  expect(Object.keys(applied[0]?.backends ?? {})).toEqual(['a', 'b']);
  expect(lines).toEqual(['config reloaded: added a, b']);
  write({ backends: { a: http('http://127.0.0.1:9/v1'), b: http('http://127.0.0.1:10/v1') } });
  write({ backends: { a: http('not a url') } });
  await waitFor(() => lines.length === 2, 10_000, 'the rejection');
  expect(lines[1]).toMatch(/^config change rejected, keeping the running configuration: backends\.a\.url/);
  expect(applied).toHaveLength(1);
  await watcher?.idle();
}, 30_000);

test('an editor save (write a temporary file, rename it over) is seen; restart-only settings are named', async () => {
  write({ backends: {} });
  start();
  const temporary = join(dir, '.mcp-lifeline.config.json.swp');
  writeFileSync(
    temporary,
    JSON.stringify({ healthCheckIntervalMs: 1234, backends: { c: http('http://127.0.0.1:9/v1') } }),
  );
  renameSync(temporary, file);
  await waitFor(() => applied.length === 1, 10_000, 'the reload');
  expect(lines).toContain(
    'healthCheckIntervalMs changed: restart serve to apply (a reload applies backends only)',
  );
}, 30_000);
