/*
 * Surviving a restart: the bridge runs as a child process (`serve --data-dir`), accepts A2A messages
 * while the router is down, is SIGKILLed, and a new process on the same data directory delivers them
 * once the router is back: each exactly once, in order. The bridge runs under `node --import tsx`
 * (not tsx's CLI, which would put the bridge in a grandchild that a SIGKILL of its parent leaves alive).
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterEach, describe, expect, test } from 'vitest';
import { WebSocketServer } from 'ws';
import type { WebSocketLike } from '../src/backends/socket.js';
import { createBridge } from '../src/bridge/create-bridge.js';
import { createManualClock } from '../src/clock.js';
import { type Lab, startLab } from '../src/lab/index.js';
import {
  createDurableOutbox,
  createFileBreakerStore,
  OUTBOX_FILE_NAME,
  readOutboxLog,
} from '../src/persistence/index.js';
import { freePort } from './support/net.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const N = 50;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'webmcp-restart-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

interface RunningBridge {
  client: Client;
  transport: StdioClientTransport;
  stderr: () => string;
}

async function spawnBridge(lab: Pick<Lab, 'urls'>, dataDir: string): Promise<RunningBridge> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: ['--import', 'tsx', 'src/cli.ts', 'serve', '--data-dir', dataDir],
    cwd: ROOT,
    env: {
      ...(process.env as Record<string, string>),
      MCP_LIFELINE_EVOLUTION_URL: lab.urls.evolution,
      MCP_LIFELINE_AGENTS_URL: lab.urls.agents,
      MCP_LIFELINE_A2A_URL: lab.urls.a2a,
      MCP_LIFELINE_LMSTUDIO_URL: lab.urls.lmStudio,
    },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const client = new Client({ name: 'restart-test', version: '1.0.0' });
  await client.connect(transport);
  cleanups.push(async () => {
    await client.close().catch(() => {});
  });
  return { client, transport, stderr: () => stderr };
}

async function callTool(client: Client, name: string, args: Record<string, unknown>) {
  const result = await client.callTool({ name, arguments: args });
  const text = (result.content as { type: string; text: string }[])[0]?.text ?? '{}';
  return JSON.parse(text) as Record<string, unknown>;
}

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 15_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Sends messages 0…N−1 to agent-7 while the router is away: each answered queued and durable; their ids. */
async function queueMessages(client: Client): Promise<string[]> {
  const ids: string[] = [];
  for (let n = 0; n < N; n++) {
    const answer = await callTool(client, 'send_a2a_message', {
      to_agent: 'agent-7',
      message_type: 'task_update',
      content: { n },
    });
    expect(answer, `message ${n}`).toMatchObject({ success: true, queued: true, durable: true });
    ids.push(answer.message_id as string);
  }
  return ids;
}

async function a2aState(client: Client): Promise<string> {
  const state = await callTool(client, 'get_os_state', { include: ['health'] });
  const health = state.health as { backends: Record<string, { state: string }> };
  return health.backends.a2a?.state ?? 'unknown';
}

describe('restart', () => {
  test('A2A messages accepted during an outage survive a SIGKILL and arrive exactly once, in order', {
    timeout: 60_000,
  }, async () => {
    const lab = await startLab({ wsPort: 0, httpPort: 0, controlPort: 0 });
    cleanups.push(() => lab.stop());
    const dataDir = tempDir();

    const first = await spawnBridge(lab, dataDir);
    await until('a2a connected', async () =>
      (await a2aState(first.client)) === 'CONNECTED' ? true : undefined,
    );
    const direct = await callTool(first.client, 'send_a2a_message', {
      to_agent: 'broadcast',
      message_type: 'status_update',
      content: { n: -1 },
    });
    expect(direct).toMatchObject({ success: true, queued: false });
    await lab.a2a.waitForCount(1);

    lab.fault('a2a', 'down');
    await until('a2a down', async () => ((await a2aState(first.client)) !== 'CONNECTED' ? true : undefined));
    const ids = await queueMessages(first.client);

    // Crash: no shutdown, no flush.
    await killBridge(first);
    expect(readOutboxLog(join(dataDir, OUTBOX_FILE_NAME)).map((m) => m.id)).toEqual(ids);
    expect(lab.a2a.count()).toBe(1);

    const second = await spawnBridge(lab, dataDir);
    lab.fault('a2a', 'up');
    const received = await lab.a2a.waitForCount(1 + N, 30_000);
    // Let any duplicate arrive before counting.
    await until('a2a reconnected', async () =>
      (await a2aState(second.client)) === 'CONNECTED' ? true : undefined,
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    const all = lab.a2a.received();
    expect(all).toHaveLength(1 + N);
    expect(received.slice(1).map((m) => m.message_id)).toEqual(ids);
    expect(all.slice(1).map((m) => m.content.n)).toEqual(Array.from({ length: N }, (_, n) => n));
    expect(new Set(all.map((m) => m.message_id)).size).toBe(1 + N);
    // Everything delivered: the log is compacted to nothing.
    await until('outbox compacted', () =>
      statSync(join(dataDir, OUTBOX_FILE_NAME)).size === 0 ? true : undefined,
    );
    expect(second.stderr()).not.toContain('cannot save');
  });
});

/** SIGKILLs the bridge's process (no shutdown, no flush) and waits until it is gone. */
async function killBridge(bridge: RunningBridge): Promise<void> {
  const pid = bridge.transport.pid;
  expect(pid).toBeTypeOf('number');
  const exited = new Promise<void>((resolve) => {
    bridge.transport.onclose = () => resolve();
  });
  process.kill(pid as number, 'SIGKILL');
  await exited;
}

test('A2A messages written to a router that never read them are resent after a SIGKILL: delivered means confirmed', {
  timeout: 60_000,
}, async () => {
  const lab = await startLab({ wsPort: 0, httpPort: 0, controlPort: 0 });
  cleanups.push(() => lab.stop());
  const dataDir = tempDir();
  const port = await freePort();
  const first = await spawnBridge({ urls: { ...lab.urls, a2a: `ws://127.0.0.1:${port}/a2a` } }, dataDir);
  const ids = await queueMessages(first.client);

  // The router comes back but never reads: its TCP sockets are paused, so no ping sent after the
  // messages is answered and nothing confirms them. The bridge writes them all (its queue drains).
  const stalled = new WebSocketServer({ host: '127.0.0.1', port });
  const raw: net.Socket[] = [];
  stalled.on('connection', (_ws, request) => {
    request.socket.pause();
    raw.push(request.socket);
  });
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of raw) socket.destroy();
        stalled.close(() => resolve());
      }),
  );
  await once(stalled, 'listening');
  await until('the queued messages written to the stalled router', async () => {
    const status = await callTool(first.client, 'reliability_get_status', {});
    const queues = status.queues as Record<string, number> | undefined;
    return raw.length > 0 && queues?.a2a === 0 ? true : undefined;
  });

  await killBridge(first);
  // Written, never confirmed: all still pending on disk.
  expect(readOutboxLog(join(dataDir, OUTBOX_FILE_NAME)).map((m) => m.id)).toEqual(ids);
  for (const socket of raw) socket.destroy(); // what the router never read is gone

  const second = await spawnBridge(lab, dataDir);
  const received = await lab.a2a.waitForCount(N, 30_000);
  expect(received.map((m) => m.message_id)).toEqual(ids);
  await until('outbox compacted', () =>
    statSync(join(dataDir, OUTBOX_FILE_NAME)).size === 0 ? true : undefined,
  );
  expect(second.stderr()).not.toContain('cannot save');
});

/** A WebSocket that never connects, counting how many were made. */
function silentSockets() {
  const made: string[] = [];
  class SilentSocket implements WebSocketLike {
    readyState = 0;
    onopen = null;
    onclose: WebSocketLike['onclose'] = null;
    onerror = null;
    onmessage = null;
    constructor(url: string) {
      made.push(url);
    }
    send(): void {}
    close(): void {
      this.readyState = 3;
      this.onclose?.({ code: 1006, reason: 'closed' });
    }
  }
  return { made, WebSocket: SilentSocket };
}

test('a bridge restored through the file store keeps the a2a breaker OPEN until its original deadline', async () => {
  const T0 = 1_700_000_000_000;
  const dataDir = tempDir();
  createFileBreakerStore(dataDir).save([
    {
      name: 'a2a',
      state: 'OPEN',
      consecutiveFailures: 5,
      openedAt: T0 - 1_000,
      reopensAt: T0 + 2_000,
      savedAt: T0 - 500,
    },
  ]);
  const clock = createManualClock(T0);
  const sockets = silentSockets();
  const outbox = createDurableOutbox(dataDir);
  cleanups.push(() => outbox.close());
  const bridge = createBridge({
    clock,
    random: () => 0.5,
    WebSocket: sockets.WebSocket,
    backends: {
      evolution: { enabled: false },
      agents: { enabled: false },
      lmStudio: { enabled: false },
      a2a: { url: 'ws://127.0.0.1:9/a2a' },
    },
    logger: { warn: () => {}, error: () => {} },
    persistence: { breakers: createFileBreakerStore(dataDir), outbox },
  });
  cleanups.push(() => bridge.stop());
  expect(bridge.health().backends.a2a?.breaker).toBe('OPEN');
  await bridge.start();
  await clock.advance(1_999);
  expect(bridge.health().backends.a2a?.breaker).toBe('OPEN');
  expect(sockets.made).toHaveLength(0); // no connect attempt while OPEN
  await clock.advance(1);
  expect(bridge.health().backends.a2a?.breaker).toBe('HALF_OPEN');
  await clock.advance(0);
  expect(sockets.made).toHaveLength(1); // the probe, at the original deadline

  // A message accepted now is on disk before the answer.
  const answer = await bridge.callTool('send_a2a_message', {
    to_agent: 'x',
    message_type: 'heartbeat',
    content: {},
  });
  expect(answer).toMatchObject({ success: true, queued: true, durable: true });
  expect(readOutboxLog(outbox.path).map((m) => m.id)).toEqual([
    (answer as { message_id?: string }).message_id,
  ]);
});
