/**
 * Cancellation reaches the backend (issue 9): a caller's signal (bridge.callTool's option, an MCP
 * client's `notifications/cancelled` in memory and over stdio) answers CANCELLED within 500 ms and
 * aborts the backend request. Real parts: the lab's OpenAI-compatible server with a latency fault,
 * the official MCP SDK client. `fetch` is the real one, wrapped only to observe the signal it was
 * given (nothing else shows, from outside, that the HTTP request was aborted).
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { FetchLike } from '../src/backends/http.js';
import { createBridge } from '../src/bridge/create-bridge.js';
import { createNodeBridge } from '../src/bridge/node.js';
import type { Bridge } from '../src/bridge/types.js';
import { createManualClock } from '../src/clock.js';
import { type Lab, startLab } from '../src/lab/index.js';
import { createMcpServer } from '../src/mcp/server.js';
import { childEnv, labEnv, ROOT, TSX_CLI, waitFor, writeFastConfig } from './e2e/helpers.js';

const quiet = { warn: () => {}, error: () => {} };
const LATENCY_MS = 5_000;
const PROMPT = { prompt: 'take your time', max_tokens: 8 };

let lab: Lab;
let bridge: Bridge | undefined;
let chatSignals: AbortSignal[] = [];

/** The real fetch; records the signal of every chat completion request. */
const observedFetch: FetchLike = (input, init) => {
  if (String(input).endsWith('/chat/completions') && init?.signal) chatSignals.push(init.signal);
  return fetch(input, init);
};

function labBridge(): Bridge {
  bridge = createNodeBridge({
    logger: quiet,
    fetch: observedFetch,
    backends: {
      evolution: { url: lab.urls.evolution },
      agents: { url: lab.urls.agents },
      a2a: { url: lab.urls.a2a },
      lmStudio: { url: lab.urls.lmStudio, options: { probeIntervalMs: 60_000 } },
    },
  });
  return bridge;
}

beforeAll(async () => {
  lab = await startLab({ wsPort: 0, httpPort: 0, controlPort: 0 });
});
afterEach(async () => {
  await bridge?.stop();
  bridge = undefined;
  chatSignals = [];
  lab.clear();
});
afterAll(async () => {
  await lab?.stop();
});

describe('bridge.callTool(name, args, { signal })', () => {
  it('an aborted send_llm_prompt answers CANCELLED within 500 ms and aborts the HTTP request', async () => {
    const b = labBridge();
    await b.start();
    lab.fault('lmStudio', { latencyMs: LATENCY_MS });
    const controller = new AbortController();
    const call = b.callTool('send_llm_prompt', PROMPT, { signal: controller.signal });
    await waitFor(() => chatSignals.length === 1, 2_000, 'the chat request sent');
    const abortedAt = Date.now();
    controller.abort();
    const result = await call;
    expect(Date.now() - abortedAt).toBeLessThan(500);
    expect(result).toMatchObject({ success: false, error_code: 'CANCELLED' });
    expect(chatSignals[0]?.aborted).toBe(true);
    const stats = (await b.callTool('get_os_state', { include: ['tools'] })) as unknown as {
      tools: { failureBreakdown: Record<string, number> };
    };
    expect(stats.tools.failureBreakdown.send_llm_prompt).toBe(1);
  });

  it('an already aborted signal answers CANCELLED without calling the backend', async () => {
    const b = labBridge();
    await b.start();
    const result = await b.callTool('send_llm_prompt', PROMPT, { signal: AbortSignal.abort() });
    expect(result).toMatchObject({ success: false, error_code: 'CANCELLED' });
    expect(chatSignals).toHaveLength(0);
  });

  it('a call that finishes before the abort is unaffected', async () => {
    const b = labBridge();
    await b.start();
    const controller = new AbortController();
    const result = await b.callTool('send_llm_prompt', PROMPT, { signal: controller.signal });
    controller.abort();
    expect(result.success).toBe(true);
  });
});

describe('an MCP client cancelling tools/call', () => {
  it('in memory: the request signal reaches the bridge and the backend', async () => {
    const b = labBridge();
    await b.start();
    lab.fault('lmStudio', { latencyMs: LATENCY_MS });
    const server = createMcpServer(b);
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    const client = new Client({ name: 'cancel-test', version: '1.0.0' });
    await client.connect(clientSide);
    try {
      const controller = new AbortController();
      const call = client.callTool({ name: 'send_llm_prompt', arguments: PROMPT }, undefined, {
        signal: controller.signal,
      });
      await waitFor(() => chatSignals.length === 1, 2_000, 'the chat request sent');
      controller.abort('user pressed stop');
      await expect(call).rejects.toThrow();
      await waitFor(() => chatSignals[0]?.aborted, 500, 'the HTTP request aborted');
    } finally {
      await client.close();
    }
  });

  it('over stdio: the served bridge records the call as cancelled within 500 ms', async () => {
    lab.fault('lmStudio', { latencyMs: LATENCY_MS });
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [TSX_CLI, 'src/cli.ts', 'serve', '--config', writeFastConfig()],
      cwd: ROOT,
      env: childEnv(labEnv(lab)),
      stderr: 'pipe',
    });
    const client = new Client({ name: 'cancel-stdio', version: '1.0.0' });
    await client.connect(transport);
    const failures = async () => {
      const result = (await client.callTool({
        name: 'get_os_state',
        arguments: { include: ['tools'] },
      })) as { structuredContent?: { tools?: { failureBreakdown?: Record<string, number> } } };
      return result.structuredContent?.tools?.failureBreakdown?.send_llm_prompt ?? 0;
    };
    try {
      const controller = new AbortController();
      const call = client.callTool({ name: 'send_llm_prompt', arguments: PROMPT }, undefined, {
        signal: controller.signal,
      });
      await waitFor(() => lab.stats().lmStudio.requests >= 1, 5_000, 'the chat request at the lab');
      controller.abort('user pressed stop');
      await expect(call).rejects.toThrow();
      await waitFor(async () => (await failures()) === 1, 500, 'the call answered CANCELLED');
    } finally {
      await client.close();
    }
  }, 30_000);
});

describe('ctx.run and the signal', () => {
  it('aborting during a retry wait answers CANCELLED and starts no further attempt', async () => {
    const clock = createManualClock();
    const b = createBridge({ logger: quiet, clock, random: () => 0.5 });
    bridge = b;
    const signals: AbortSignal[] = [];
    b.registerTool({
      name: 'flaky',
      description: 'Times out every time, retried with the fetch policy',
      inputSchema: z.object({}),
      operation: 'fetch',
      handler: (_args, ctx) =>
        ctx.run((_attempt, signal) => {
          signals.push(signal);
          throw Object.assign(new Error('slow'), { name: 'TimeoutError' });
        }),
    });
    const controller = new AbortController();
    const call = b.callTool('flaky', {}, { signal: controller.signal });
    await clock.advance(0);
    expect(signals).toHaveLength(1);
    controller.abort();
    expect(await call).toMatchObject({ success: false, error_code: 'CANCELLED' });
    expect(signals[0]?.aborted).toBe(true);
    await clock.advance(60_000);
    expect(signals).toHaveLength(1);
    expect(clock.pendingTimers()).toBe(0);
  });
});
