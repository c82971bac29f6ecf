/**
 * Client cancellation reaches the backend on both protocol eras (issue 14), over stdio and
 * Streamable HTTP: an official MCP client (SDK v1 for 2025-11-25, SDK v2 pinned to 2026-07-28)
 * aborts its `tools/call` while `send_llm_prompt` waits on a hanging LM Studio (the lab's `silent`
 * fault); the client's promise rejects, and the lab sees the chat request abandoned (`aborted`).
 * On stdio the client cancels with `notifications/cancelled`; over HTTP the 2025-11-25 client POSTs
 * `notifications/cancelled` and the 2026-07-28 client closes the request's response stream — also
 * once the response became an SSE stream (the call asked for progress and got some).
 */
import { afterAll, afterEach, beforeAll, describe, expect } from 'vitest';
import { type Lab, startLab } from '../src/lab/index.js';
import { labEnv, waitFor, writeFastConfig } from './e2e/helpers.js';
import { type AnyClient, type ClientKind, itOverStdioAndHttp } from './support/mcp-clients.js';

const KINDS: ClientKind[] = ['v1', 'v2 pinned 2026-07-28'];
const PROMPT = { prompt: 'take your time', max_tokens: 8 };

let lab: Lab;
let config: string;
beforeAll(async () => {
  lab = await startLab({ wsPort: 0, httpPort: 0, controlPort: 0 });
  // No periodic probe while the lab hangs: the only LM Studio request in flight is the chat call.
  config = writeFastConfig({
    healthCheckIntervalMs: 600_000,
    backends: { lmStudio: { options: { probeIntervalMs: 600_000, requestTimeoutMs: 600_000 } } },
  });
});
afterEach(() => {
  lab.clear();
});
afterAll(async () => {
  await lab?.stop();
});

/**
 * Calls send_llm_prompt against the hanging lab (asking for progress or not), aborts it, and checks
 * both ends saw the abort.
 */
async function cancelHangingCall(client: AnyClient, withProgress: boolean): Promise<void> {
  // The bridge's start-up probe has answered: from here on, no LM Studio request but the call's.
  await waitFor(
    async () => {
      const state = await client.callTool({ name: 'get_os_state', arguments: { include: ['health'] } });
      const health = state.structuredContent as {
        health?: { backends?: Record<string, { status?: string }> };
      };
      return health.health?.backends?.lmStudio?.status === 'pass';
    },
    20_000,
    'LM Studio healthy',
  );
  const before = lab.stats().lmStudio;
  lab.fault('lmStudio', { silent: true });
  const controller = new AbortController();
  const progress: string[] = [];
  const call = client.callTool(
    { name: 'send_llm_prompt', arguments: PROMPT },
    {
      signal: controller.signal,
      ...(withProgress && { onprogress: (p: { message?: string }) => progress.push(p.message ?? '') }),
    },
  );
  call.catch(() => {});
  await waitFor(
    () => lab.stats().lmStudio.hung === before.hung + 1,
    20_000,
    'the chat request held by the lab',
  );
  if (withProgress) await waitFor(() => progress.length === 1, 20_000, 'the progress of the request sent');
  controller.abort(new Error('user pressed stop'));
  await expect(call).rejects.toThrow();
  await waitFor(
    () => lab.stats().lmStudio.aborted === before.aborted + 1,
    20_000,
    'the lab to see the chat request aborted',
  );
  lab.clear('lmStudio');
  // The connection still serves calls after the cancellation.
  const after = await client.callTool({ name: 'send_llm_prompt', arguments: PROMPT });
  expect(after.structuredContent).toMatchObject({ success: true });
}

describe.each(KINDS)('%s client cancelling tools/call', (kind) => {
  itOverStdioAndHttp(
    kind,
    'aborts the backend request',
    () => ({ args: ['--config', config], env: labEnv(lab) }),
    async (client) => {
      await cancelHangingCall(client, false);
      await cancelHangingCall(client, true);
    },
    90_000,
  );
});
