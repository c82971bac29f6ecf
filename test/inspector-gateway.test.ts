/*
 * The inspector draws the gateway's machines live like the others: an `mcp` upstream (the lab MCP
 * server, run with node) is announced under its backend name with its machine definition and its
 * snapshots, and so is a backend added later by a config reload (`bridge.reconfigure`).
 */
import { afterEach, expect, test } from 'vitest';
import { createInspectedBridge, type InspectorMessage } from '../src/inspector/index.js';
import { LAB_UPSTREAM, waitFor } from './mcp-support.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
}, 30_000);

const off = { enabled: false };
const quiet = { warn() {}, info() {}, error() {}, debug() {} };
const upstream = { kind: 'mcp', command: process.execPath, args: [LAB_UPSTREAM] };

test('mcp backends, added at start or by reconfigure, are drawn with their machine and snapshots', async () => {
  const defaults = { evolution: off, agents: off, a2a: off, lmStudio: off };
  const { bridge, relay } = createInspectedBridge({ logger: quiet, backends: { ...defaults, up: upstream } });
  cleanups.push(async () => {
    await bridge.stop();
    relay.stop();
  });
  const messages: InspectorMessage[] = [];
  relay.subscribe((batch) => messages.push(...batch));
  await bridge.start();
  await waitFor(() => bridge.health().backends.up?.state === 'READY', 15_000, 'up READY');
  await bridge.reconfigure({ backends: { ...defaults, up: upstream, later: upstream } });
  await waitFor(() => bridge.health().backends.later?.state === 'READY', 15_000, 'later READY');
  relay.flush();
  const actors = relay.replay().filter((m) => m.type === '@xstate.actor');
  for (const name of ['up', 'later']) {
    const actor = actors.find((a) => a.name === name);
    expect(actor, `${name} announced`).toMatchObject({ role: 'backend', backend: name });
    const definition = JSON.parse(actor?.definition ?? '{}');
    expect(definition.id).toBe('mcp');
    expect(Object.keys(definition.states)).toContain('READY');
    expect(actors.find((a) => a.name === `${name}.breaker`)).toMatchObject({ role: 'breaker' });
    const snapshots = messages.filter(
      (m) => m.type === '@xstate.snapshot' && m.sessionId === actor?.sessionId,
    );
    expect(snapshots.at(-1)).toMatchObject({ snapshot: { value: 'READY' } });
  }
}, 60_000);
