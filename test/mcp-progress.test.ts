/**
 * Progress notifications (issue 14): a `tools/call` whose `_meta` carries a `progressToken` gets
 * `notifications/progress` with that token, an increasing `progress` and a `message`, on both
 * protocol eras (SDK v1 client for 2025-11-25, SDK v2 client pinned to 2026-07-28), over stdio and
 * Streamable HTTP. `send_llm_prompt` reports the request sent, then every retry wait
 * ("attempt 1 failed (503); retrying in 40 ms, attempt 2 of 4"); the result ends the story.
 *
 * The LLM is a real OpenAI-compatible server on 127.0.0.1 that answers the first chat completion 503
 * and the next ones 200 (the lab's answers, `src/lab/openai.ts`). The retry delay is fixed by
 * configuration (40 ms, no jitter), so the messages are exact. The test asserts their content and
 * order, never their timing: the LLM holds each chat request until the client has seen one more
 * progress notification, so no answer can overtake the progress it follows. (Without that gate a
 * fast answer could race the SDK clients, which drop progress read together with the response:
 * typescript-sdk#2580.)
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect } from 'vitest';
import { type Lab, startLab } from '../src/lab/index.js';
import { chatCompletion, modelsResponse } from '../src/lab/openai.js';
import { labEnv, writeFastConfig } from './e2e/helpers.js';
import { type AnyClient, type ClientKind, itOverStdioAndHttp, MODERN } from './support/mcp-clients.js';

const KINDS: ClientKind[] = ['v1', 'v2 pinned 2026-07-28'];
const PROMPT = { prompt: 'hello', max_tokens: 8 };

/**
 * An OpenAI-compatible server whose next `failures` chat completions answer 503. While `gated`,
 * each chat request waits for a permit (`allow()`).
 */
interface FlakyLlm {
  url: string;
  failures: number;
  chats: number;
  gated: boolean;
  allow(): void;
  close(): Promise<void>;
}

async function startFlakyLlm(): Promise<FlakyLlm> {
  let permits = 0;
  const parked: (() => void)[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.method === 'GET' && req.url === '/v1/models') return send(200, modelsResponse());
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') return send(404, {});
      const answer = () => {
        llm.chats++;
        if (llm.failures > 0) {
          llm.failures--;
          return send(503, { error: { message: 'busy', type: 'server_error' } });
        }
        const result = chatCompletion(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        return send(result.status, result.status === 200 ? result.body : { error: result.error });
      };
      if (!llm.gated) return answer();
      if (permits > 0) {
        permits--;
        return answer();
      }
      parked.push(answer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const llm: FlakyLlm = {
    url: `http://127.0.0.1:${port}/v1`,
    failures: 0,
    chats: 0,
    gated: false,
    allow() {
      const next = parked.shift();
      if (next) next();
      else permits++;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  return llm;
}

let lab: Lab;
let llm: FlakyLlm;
let config: string;
let env: Record<string, string>;
beforeAll(async () => {
  lab = await startLab({ wsPort: 0, httpPort: 0, controlPort: 0 });
  llm = await startFlakyLlm();
  env = { ...labEnv(lab), MCP_LIFELINE_LMSTUDIO_URL: llm.url };
  config = writeFastConfig({
    backends: {
      lmStudio: { options: { retry: { maxRetries: 3, baseDelayMs: 40, maxDelayMs: 40, jitter: 0 } } },
    },
  });
});
beforeEach(() => {
  llm.failures = 0;
  llm.chats = 0;
  llm.gated = false;
});
afterAll(async () => {
  await llm?.close();
  await lab?.stop();
});

type Progress = { progress: number; total?: number; message?: string };

/** A gated call asking for progress: each notification the client sees lets one chat request answer. */
async function callWithProgress(
  client: AnyClient,
): Promise<{ result: Record<string, unknown>; seen: Progress[] }> {
  const seen: Progress[] = [];
  llm.gated = true;
  try {
    const result = await client.callTool(
      { name: 'send_llm_prompt', arguments: PROMPT },
      {
        onprogress: (progress) => {
          seen.push(progress);
          llm.allow();
        },
      },
    );
    return { result, seen };
  } finally {
    llm.gated = false;
  }
}

/** The spec's story of one call: sent, then a failed attempt and its wait, then the result. */
async function expectProgressStory(client: AnyClient, kind: ClientKind): Promise<void> {
  if (kind === 'v2 pinned 2026-07-28') expect(client.protocolVersion?.()).toBe(MODERN);
  llm.failures = 1;
  const { result, seen } = await callWithProgress(client);
  expect(result.structuredContent).toMatchObject({ success: true });
  expect(llm.chats).toBe(2);
  expect(seen).toEqual([
    { progress: 1, message: 'sending the prompt to lmStudio' },
    { progress: 2, message: 'attempt 1 failed (503); retrying in 40 ms, attempt 2 of 4' },
  ]);

  // A call that needs no retry: the request sent, then the result.
  const { seen: plain } = await callWithProgress(client);
  expect(plain).toEqual([{ progress: 1, message: 'sending the prompt to lmStudio' }]);

  // A call without a progress token gets no notifications: a stray one would reach the client's
  // onerror ("progress notification for an unknown token").
  llm.failures = 1;
  const quiet = await client.callTool({ name: 'send_llm_prompt', arguments: PROMPT });
  expect(quiet.structuredContent).toMatchObject({ success: true });
  expect(llm.chats).toBe(5);
  expect(client.errors.filter((message) => /progress/i.test(message))).toEqual([]);
}

describe.each(KINDS)('%s client asking for progress', (kind) => {
  itOverStdioAndHttp(
    kind,
    'gets the request sent and each retry wait, in order',
    () => ({ args: ['--config', config], env }),
    (client) => expectProgressStory(client, kind),
  );
});
