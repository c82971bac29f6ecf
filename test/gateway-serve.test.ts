/*
 * The gateway end to end: the official MCP SDK client spawns `mcp-lifeline serve` (src/cli.ts through
 * tsx) with a config file naming real MCP upstreams — server-everything, the lab upstream, a broken
 * one that exits at start — and no `kinds` anywhere. Lists and calls pass through unchanged; a
 * SIGKILLed upstream answers at once with a code and `retry_after_ms`, stays listed and comes back;
 * the broken one harms nobody; list changes reach the client; editing the config file hot-reloads.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type StdioServe, serveOverStdio, waitFor } from './e2e/helpers.js';
import { LAB_UPSTREAM, referenceServer } from './mcp-support.js';

// biome-ignore lint/suspicious/noExplicitAny: MCP results are read field by field in assertions
type Loose = Record<string, any>;

const off = { enabled: false };
const fast = { backoff: { baseDelayMs: 100, maxDelayMs: 400 }, breaker: { resetTimeoutMs: 500 } };
const everything = {
  kind: 'mcp',
  command: process.execPath,
  args: [referenceServer('everything'), 'stdio'],
  ...fast,
};
const lab = { kind: 'mcp', command: process.execPath, args: [LAB_UPSTREAM], ...fast };
const broken = {
  kind: 'mcp',
  command: process.execPath,
  args: [LAB_UPSTREAM],
  env: { LAB_EXIT_AT_START: '3' },
  ...fast,
};
const defaultsOff = { evolution: off, agents: off, a2a: off, lmStudio: off };

let dir: string;
let file: string;
let client: Client;
let serve: StdioServe;
let listChanged = 0;

const writeConfig = (backends: Record<string, unknown>) =>
  writeFileSync(
    file,
    JSON.stringify({ healthCheckIntervalMs: 500, backends: { ...defaultsOff, ...backends } }, null, 2),
  );
const names = async () => (await client.listTools()).tools.map((tool) => tool.name);
const call = async (name: string, args: Record<string, unknown> = {}) =>
  (await client.callTool({ name, arguments: args })) as Loose;
const health = async () =>
  (await call('get_os_state', { include: ['health'] })).structuredContent.health as Loose;

/** Pids of every process descended from `root`. */
function descendants(root: number): { pid: number; args: string }[] {
  const rows = execFileSync('ps', ['-e', '-o', 'pid=,ppid=,args='], { encoding: 'utf8' })
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), args: m[3] as string }));
  const found: { pid: number; args: string }[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const parent = queue.shift() as number;
    for (const row of rows)
      if (row.ppid === parent) {
        found.push(row);
        queue.push(row.pid);
      }
  }
  return found;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gateway-serve-'));
  file = join(dir, 'mcp-lifeline.config.json');
  writeConfig({ everything, lab, broken });
  // A broken upstream never fails initialize.
  serve = await serveOverStdio({
    config: file,
    name: 'gateway-serve-test',
    beforeConnect: (c) =>
      c.setNotificationHandler(ToolListChangedNotificationSchema, () => {
        listChanged++;
      }),
  });
  client = serve.client;
  await waitFor(
    async () => (await names()).includes('everything__echo') && (await names()).includes('lab__echo'),
    20_000,
    'upstream tools listed',
  );
}, 60_000);

afterAll(async () => {
  await client?.close();
}, 30_000);

test('lists upstream tools beside the built-in ones and passes results through unchanged', async () => {
  const listed = await names();
  expect(listed).toEqual(
    expect.arrayContaining([
      'everything__echo',
      'everything__get-sum',
      'lab__echo',
      'get_os_state',
      'reliability_get_status',
    ]),
  );
  expect(listed.some((name) => name.startsWith('broken__'))).toBe(false);
  const echoed = await call('everything__echo', { message: 'hello' });
  expect(echoed.content).toEqual([{ type: 'text', text: 'Echo: hello' }]);
  expect(echoed.isError).toBeFalsy();
  const structured = await call('lab__echo', { text: 'x' });
  expect(structured).toMatchObject({
    content: [{ type: 'text', text: 'x' }],
    structuredContent: { echoed: 'x' },
  });
  const failed = await call('lab__fail');
  expect(failed.isError).toBe(true);
  expect(failed.structuredContent).toBeUndefined(); // the upstream's own error result, not the bridge's
  const bad = await call('lab__echo', { text: 5 });
  expect(bad.isError).toBe(true);
  expect(bad.structuredContent).toMatchObject({ error_code: 'INVALID_INPUT', field: 'text' });
}, 30_000);

test('every upstream appears in health, reliability_get_status and get_os_state with its kind', async () => {
  const report = await health();
  expect(report.backends.everything).toMatchObject({ kind: 'mcp', state: 'READY', status: 'pass' });
  expect(report.backends.broken.kind).toBe('mcp');
  expect(report.backends.broken.status).not.toBe('pass');
  const status = (await call('reliability_get_status')).structuredContent;
  expect(Object.keys(status.breakers)).toEqual(expect.arrayContaining(['everything', 'lab', 'broken']));
  expect(status.health.backends.lab.kind).toBe('mcp');
}, 30_000);

test('a SIGKILLed upstream answers at once with a code and retry_after_ms, stays listed and serves again', async () => {
  const serverPid = serve.transport.pid as number;
  const upstream = descendants(serverPid).find(
    (p) =>
      p.args.includes('server-everything') && p.args.includes('dist/index.js') && !p.args.includes('reaper'),
  );
  expect(upstream, JSON.stringify(descendants(serverPid))).toBeDefined();
  process.kill((upstream as { pid: number }).pid, 'SIGKILL');
  // Calls in between answer with a code (not a hang), the other upstream is unaffected.
  const down = await waitFor(
    async () => {
      const result = await call('everything__echo', { message: 'during' });
      return result.isError ? result : null;
    },
    10_000,
    'a failed call while everything is down',
  );
  expect(['BACKEND_UNAVAILABLE', 'CIRCUIT_OPEN'], JSON.stringify(down)).toContain(
    down.structuredContent.error_code,
  );
  expect(down.structuredContent.retry_after_ms).toBeTypeOf('number');
  expect(await names()).toContain('everything__echo');
  expect((await call('lab__echo', { text: 'fine' })).isError).toBeFalsy();
  await waitFor(
    async () => !(await call('everything__echo', { message: 'back' })).isError,
    15_000,
    'everything serving again',
  );
}, 40_000);

test('an upstream list change reaches the client as notifications/tools/list_changed', async () => {
  const before = listChanged;
  expect((await call('lab__add_tool', { name: 'extra' })).isError).toBeFalsy();
  await waitFor(() => listChanged > before, 10_000, 'list_changed');
  await waitFor(async () => (await names()).includes('lab__extra'), 10_000, 'lab__extra listed');
}, 30_000);

test('editing the config file hot-reloads backends without dropping the client; a bad edit is rejected', async () => {
  const before = listChanged;
  writeConfig({
    everything,
    broken,
    memory: {
      kind: 'mcp',
      command: process.execPath,
      args: [referenceServer('memory')],
      env: { MEMORY_FILE_PATH: join(dir, 'memory.jsonl') },
    },
  });
  await waitFor(
    async () => {
      const listed = await names();
      return listed.includes('memory__read_graph') && !listed.some((name) => name.startsWith('lab__'));
    },
    20_000,
    'memory added and lab removed',
  );
  expect(listChanged).toBeGreaterThan(before);
  expect(serve.stderr()).toMatch(
    /config reloaded: .*added memory.*removed lab|config reloaded: .*removed lab/,
  );
  expect((await call('memory__read_graph')).isError).toBeFalsy();
  expect((await health()).backends.lab).toBeUndefined();

  writeConfig({ everything, broken, memory: { kind: 'mcp', command: 7 } });
  await waitFor(
    () => /config change rejected.*backends\.memory\.command/.test(serve.stderr()),
    10_000,
    'rejection on stderr',
  );
  expect(await names()).toContain('memory__read_graph');
  expect((await call('everything__echo', { message: 'still here' })).isError).toBeFalsy();
}, 60_000);
