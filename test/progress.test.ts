/**
 * `bridge.callTool(name, args, { onProgress })` (issue 14): a tool's progress points and every retry
 * wait of `ctx.run` reach the caller as `{ progress, message }`, `progress` counting 1, 2, 3… per
 * call; without `onProgress` nothing is reported and the tool sees no retry hook. In process, with a
 * manual clock: the retry delays are exact and no test waits on real time. The MCP side (progress
 * tokens, both eras, stdio and HTTP) is test/mcp-progress.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createBridge } from '../src/bridge/create-bridge.js';
import type { Bridge } from '../src/bridge/types.js';
import { createManualClock } from '../src/clock.js';
import type { ToolContext, ToolProgress } from '../src/tools/types.js';

const quiet = { warn: () => {}, error: () => {} };
let bridge: Bridge | undefined;
afterEach(async () => {
  await bridge?.stop();
  bridge = undefined;
});

/** A bridge (manual clock, no jitter) with a tool `flaky` whose first `failures` attempts time out. */
function flakyBridge(failures: number) {
  const clock = createManualClock();
  const b = createBridge({ logger: quiet, clock, random: () => 0.5 });
  bridge = b;
  const contexts: ToolContext[] = [];
  let attempts = 0;
  b.registerTool({
    name: 'flaky',
    description: 'Times out at first; retried with the fetch policy (3 retries from 100 ms)',
    inputSchema: z.object({}),
    operation: 'fetch',
    handler: async (_args, ctx) => {
      contexts.push(ctx);
      ctx.progress('starting');
      const value = await ctx.run(() => {
        attempts++;
        if (attempts <= failures) throw Object.assign(new Error('slow'), { name: 'TimeoutError' });
        return attempts;
      });
      ctx.progress('done');
      return { attempts: value };
    },
  });
  return { b, clock, contexts };
}

/** Advances the manual clock until `call` settles. */
async function settle<T>(clock: ReturnType<typeof createManualClock>, call: Promise<T>): Promise<T> {
  let done = false;
  void call.then(() => {
    done = true;
  });
  for (let i = 0; i < 100 && !done; i++) await clock.advance(100);
  return call;
}

describe('callTool with onProgress', () => {
  it('reports the tool’s points and each retry wait, in order, counting from 1', async () => {
    const { b, clock } = flakyBridge(2);
    const seen: ToolProgress[] = [];
    const result = await settle(clock, b.callTool('flaky', {}, { onProgress: (p) => seen.push(p) }));
    expect(result).toMatchObject({ success: true, attempts: 3 });
    expect(seen).toEqual([
      { progress: 1, message: 'starting' },
      { progress: 2, message: 'attempt 1 failed (TIMEOUT); retrying in 100 ms, attempt 2 of 4' },
      { progress: 3, message: 'attempt 2 failed (TIMEOUT); retrying in 200 ms, attempt 3 of 4' },
      { progress: 4, message: 'done' },
    ]);
  });

  it('counts each call on its own', async () => {
    const { b, clock } = flakyBridge(0);
    const first: number[] = [];
    const second: number[] = [];
    await settle(clock, b.callTool('flaky', {}, { onProgress: (p) => first.push(p.progress) }));
    await settle(clock, b.callTool('flaky', {}, { onProgress: (p) => second.push(p.progress) }));
    expect(first).toEqual([1, 2]);
    expect(second).toEqual([1, 2]);
  });

  it('without onProgress reports nothing and gives the tool no retry hook', async () => {
    const { b, clock, contexts } = flakyBridge(1);
    const result = await settle(clock, b.callTool('flaky', {}));
    expect(result).toMatchObject({ success: true, attempts: 2 });
    expect(contexts[0]?.onRetry).toBeUndefined();
  });

  it('a listener that throws does not fail the call', async () => {
    const { b, clock } = flakyBridge(1);
    const result = await settle(
      clock,
      b.callTool(
        'flaky',
        {},
        {
          onProgress: () => {
            throw new Error('listener bug');
          },
        },
      ),
    );
    expect(result).toMatchObject({ success: true, attempts: 2 });
  });

  it('a retry wait says when the wait comes from the backend’s Retry-After', async () => {
    const clock = createManualClock();
    const b = createBridge({ logger: quiet, clock, random: () => 0.5 });
    bridge = b;
    let attempts = 0;
    b.registerTool({
      name: 'busy',
      description: 'Answers 503 with Retry-After 4 s once',
      inputSchema: z.object({}),
      operation: 'fetch',
      handler: async (_args, ctx) => ({
        attempts: await ctx.run(() => {
          attempts++;
          if (attempts === 1)
            throw Object.assign(new Error('busy'), {
              name: 'HttpStatusError',
              status: 503,
              transient: true,
              retryAfterMs: 4_000,
            });
          return attempts;
        }),
      }),
    });
    const seen: string[] = [];
    const call = b.callTool('busy', {}, { onProgress: (p) => seen.push(p.message) });
    await clock.advance(0);
    expect(seen).toEqual(['attempt 1 failed (503); retrying in 4000 ms, attempt 2 of 4']);
    await clock.advance(3_999);
    expect(attempts).toBe(1);
    await clock.advance(1);
    expect(await call).toMatchObject({ success: true, attempts: 2 });
  });
});
