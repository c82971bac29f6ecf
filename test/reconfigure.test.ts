/*
 * `bridge.reconfigure`: backends of any kind join, leave and restart in a running bridge, with real
 * MCP upstreams (the lab server, run with node). Unchanged backends keep running (same process),
 * tool lists follow with `onToolsChanged`, an invalid config changes nothing and names the field.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import type { McpBackend } from '../src/backends/mcp/index.js';
import { createNodeBridge } from '../src/bridge/node.js';
import type { Bridge, BridgeConfig } from '../src/bridge/types.js';
import { withPersistence } from '../src/persistence/index.js';
import { quietLogger } from './bridge-fixtures.js';
import { LAB_UPSTREAM, waitFor } from './mcp-support.js';

const off = { enabled: false } as const;
const defaultsOff = { evolution: off, agents: off, a2a: off, lmStudio: off };
const upstream = (extra: Record<string, unknown> = {}) => ({
  kind: 'mcp',
  command: process.execPath,
  args: [LAB_UPSTREAM],
  ...extra,
});

let bridge: Bridge | undefined;
afterEach(async () => {
  await bridge?.stop();
  bridge = undefined;
}, 30_000);

const ready = (b: Bridge, name: string) =>
  waitFor(() => b.health().backends[name]?.state === 'READY', 15_000, `${name} READY`);
const pidOf = (b: Bridge, name: string) => (b.backend(name) as McpBackend | undefined)?.pid;

test('adds, restarts and removes mcp backends; unchanged ones keep running; tool lists follow', async () => {
  const config: BridgeConfig = {
    backends: { ...defaultsOff, one: upstream() },
    logger: quietLogger,
    surface: false,
  };
  bridge = createNodeBridge(config);
  let changes = 0;
  bridge.onToolsChanged(() => changes++);
  await bridge.start();
  await ready(bridge, 'one');
  const onePid = pidOf(bridge, 'one');
  expect(onePid).toBeTypeOf('number');

  // Add `two`.
  const before = changes;
  const added = await bridge.reconfigure({ backends: { ...defaultsOff, one: upstream(), two: upstream() } });
  expect(added).toMatchObject({ added: ['two'], removed: [], restarted: [], unchanged: ['one'] });
  await ready(bridge, 'two');
  expect(bridge.listTools().map((t) => t.name)).toEqual(expect.arrayContaining(['one__echo', 'two__echo']));
  expect(changes).toBeGreaterThan(before);
  expect(bridge.health().backends.two?.kind).toBe('mcp');
  const echoed = await bridge.callTool('two__echo', { text: 'hi' });
  expect(echoed).toMatchObject({ success: true, passthrough: { structuredContent: { echoed: 'hi' } } });
  expect(pidOf(bridge, 'one')).toBe(onePid);

  // Change `two`'s settings: restarted (a new process); `one` untouched.
  const twoPid = pidOf(bridge, 'two');
  const restarted = await bridge.reconfigure({
    backends: { ...defaultsOff, one: upstream(), two: upstream({ env: { LAB_STDERR: 'restarted' } }) },
  });
  expect(restarted).toMatchObject({ added: [], removed: [], restarted: ['two'], unchanged: ['one'] });
  await ready(bridge, 'two');
  expect(pidOf(bridge, 'two')).not.toBe(twoPid);
  expect(pidOf(bridge, 'one')).toBe(onePid);

  // Remove `two`: its tools and health line go.
  const removed = await bridge.reconfigure({ backends: { ...defaultsOff, one: upstream() } });
  expect(removed).toMatchObject({ removed: ['two'], unchanged: ['one'] });
  expect(bridge.listTools().some((t) => t.name.startsWith('two__'))).toBe(false);
  expect(bridge.health().backends.two).toBeUndefined();
  expect(bridge.backendNames()).toEqual(['one']);
  const gone = await bridge.callTool('two__echo', { text: 'hi' });
  expect(gone).toMatchObject({ success: false, error_code: 'INVALID_INPUT', field: 'name' });
  expect(await bridge.callTool('one__echo', { text: 'still' })).toMatchObject({ success: true });
}, 90_000);

test('an invalid config throws ConfigError naming the field and changes nothing', async () => {
  bridge = createNodeBridge({
    backends: { ...defaultsOff, one: upstream() },
    logger: quietLogger,
    surface: false,
  });
  await bridge.start();
  await ready(bridge, 'one');
  await expect(
    bridge.reconfigure({
      backends: { ...defaultsOff, one: upstream(), bad: { kind: 'mcp', command: 5 } as never },
    }),
  ).rejects.toMatchObject({ name: 'ConfigError', key: 'backends.bad.command' });
  expect(bridge.backendNames()).toEqual(['one']);
  expect(bridge.health().backends.one?.state).toBe('READY');
}, 60_000);

test('a default backend can be switched off and on again (websocket and http kinds too)', async () => {
  bridge = createNodeBridge({ backends: defaultsOff, logger: quietLogger, surface: false });
  await bridge.start();
  const on = await bridge.reconfigure({
    backends: { ...defaultsOff, lmStudio: { url: 'http://127.0.0.1:9/v1' } },
  });
  expect(on.added).toEqual(['lmStudio']);
  expect(bridge.health().backends.lmStudio?.kind).toBe('http');
  const offAgain = await bridge.reconfigure({ backends: defaultsOff });
  expect(offAgain.removed).toEqual(['lmStudio']);
  expect(bridge.health().backends.lmStudio).toBeUndefined();
}, 30_000);

test('with a data directory, the breaker of a backend added by reconfigure is saved too', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'reconfigure-data-'));
  const persistent = withPersistence({ backends: defaultsOff, logger: quietLogger, surface: false, dataDir });
  try {
    bridge = createNodeBridge(persistent.config);
    await bridge.start();
    const added = {
      kind: 'http',
      url: 'http://127.0.0.1:9/v1',
      options: { breaker: { failureThreshold: 1 } },
    };
    await bridge.reconfigure({ backends: { ...defaultsOff, later: added } });
    const breaker = bridge.backend('later')?.breaker;
    await breaker?.execute(() => Promise.reject(new Error('down'))).catch(() => {});
    expect(breaker?.state).toBe('OPEN');
    await new Promise((resolve) => setImmediate(resolve)); // saves are batched a microtask later
    expect(persistent.config.persistence?.breakers?.load('later')).toMatchObject({ state: 'OPEN' });
  } finally {
    await bridge?.stop();
    bridge = undefined;
    persistent.close();
  }
}, 30_000);
