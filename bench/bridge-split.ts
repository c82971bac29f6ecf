/*
 * Where a tool call's overhead goes, without any network: `send_llm_prompt` through the bridge against
 * an in-process `fetch` that answers at once, beside the same request made directly, then each piece
 * of the bridge path timed in isolation (minus a bare `await`), all in interleaved rounds.
 * Alone: `npx tsx bench/bridge-split.ts`. `BASELINE=<checkout of an earlier commit>` adds that
 * version's bridge to the head-to-head, in the same interleaved rounds (before/after in one run).
 */
import { pathToFileURL } from 'node:url';
import { createHttpBackend, type FetchLike } from '../src/backends/http.js';
import { createBridge } from '../src/bridge/create-bridge.js';
import { systemClock } from '../src/clock.js';
import { createCircuitBreaker } from '../src/reliability/breaker.js';
import { retry } from '../src/reliability/retry.js';
import { createRetryBudget, nestedRetryBudget } from '../src/reliability/retry-budget.js';
import { createRetryMetrics } from '../src/reliability/retry-metrics.js';
import { createReliabilityEventHub } from '../src/telemetry/events.js';
import { assertAvailable } from '../src/tools/availability.js';
import { sendLlmPromptInput } from '../src/tools/send-llm-prompt.js';
import { differences, interleaved, spread, type TimedCase, us } from './interleave.js';
import { formatTable } from './table.js';

const quiet = { warn: () => {}, info: () => {}, error: () => {}, debug: () => {} };
const completion = JSON.stringify({
  model: 'local',
  choices: [{ message: { content: 'ok' } }],
  usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
});
const fakeFetch: FetchLike = async () =>
  new Response(completion, { status: 200, headers: { 'content-type': 'application/json' } });
const BASE = 'http://127.0.0.1:1/v1';
const args = { prompt: 'hello lab', max_tokens: 16 };
const value = async () => 1;

/** The bridge of the checkout named by `BASELINE`, if any, on the same in-process fetch. */
async function baselineBridge(): Promise<
  { label: string; call: () => Promise<void>; stop: () => Promise<void> } | undefined
> {
  const dir = process.env.BASELINE;
  if (!dir) return undefined;
  const module = (await import(pathToFileURL(`${dir}/src/bridge/create-bridge.ts`).href)) as {
    createBridge: typeof createBridge;
  };
  const bridge = module.createBridge({
    fetch: fakeFetch,
    logger: quiet,
    surface: false,
    backends: { lmStudio: { url: BASE } },
  });
  bridge.backend('lmStudio')?.start();
  return {
    label: process.env.BASELINE_LABEL ?? dir,
    call: async () => {
      const result = await bridge.callTool('send_llm_prompt', args);
      if (!result.success) throw new Error(`baseline send_llm_prompt failed: ${result.error}`);
    },
    stop: () => bridge.stop(),
  };
}

export async function runBridgeSplit(): Promise<void> {
  const bridge = createBridge({
    fetch: fakeFetch,
    logger: quiet,
    surface: false,
    backends: { lmStudio: { url: BASE } },
  });
  const lm = bridge.backend('lmStudio');
  if (!lm) throw new Error('bench setup: no lmStudio backend');
  lm.start();
  const direct = async () => {
    const response = await fakeFetch(`${BASE}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({
        model: 'local',
        messages: [{ role: 'user', content: args.prompt }],
        max_tokens: 16,
      }),
    });
    await response.json();
  };
  const viaBridge = async () => {
    const result = await bridge.callTool('send_llm_prompt', args);
    if (!result.success) throw new Error(`send_llm_prompt failed: ${result.error}`);
  };
  const baseline = await baselineBridge();
  const headToHead = await interleaved(
    [
      { name: 'direct', run: direct },
      { name: 'bridge', run: viaBridge },
      ...(baseline ? [{ name: 'baseline bridge', run: baseline.call }] : []),
    ],
    { rounds: 15, ops: 5_000, warmup: 5_000 },
  );
  const [d, b, before] = headToHead as [number[], number[], number[] | undefined];
  console.log(
    formatTable(
      'send_llm_prompt in process (fetch answers at once): µs per call, median (p25–p75) of 15 interleaved rounds × 5,000 calls',
      ['bridge', 'direct fetch + JSON', 'through the bridge', 'overhead (per-round difference)'],
      [
        ...(before
          ? [
              [
                `${baseline?.label}`,
                us(spread(d), 2),
                us(spread(before), 2),
                us(spread(differences(before, d)), 2),
              ],
            ]
          : []),
        ['this version', us(spread(d), 2), us(spread(b), 2), us(spread(differences(b, d)), 2)],
      ],
    ),
  );
  await baseline?.stop();

  const schema = sendLlmPromptInput();
  const budget = createRetryBudget();
  const metrics = createRetryMetrics();
  const breaker = createCircuitBreaker({ name: 'split' });
  const hub = createReliabilityEventHub(() => systemClock.now());
  const timed = hub.timeAttempts('lmStudio', 'sendLLMPrompt', value);
  const backend = createHttpBackend({ name: 'split', baseUrl: BASE, fetch: fakeFetch, logger: quiet });
  backend.start();
  const shared = new AbortController().signal;
  const retryOptions = {
    operation: 'sendLLMPrompt',
    metrics,
    budget,
    clock: systemClock,
    random: Math.random,
    shouldRetry: () => true,
  };
  const cases: TimedCase[] = [
    { name: 'bare await fn() (subtracted from every row)', run: value },
    { name: 'validation: zod safeParse of the arguments', run: async () => schema.safeParse(args) },
    {
      name: 'availability: assertAvailable (state + canAdmit(), no status())',
      run: async () => assertAvailable(lm, Date.now()),
    },
    { name: 'budget: onCall()', run: async () => budget.onCall() },
    { name: 'breaker: execute(fn)', run: () => breaker.execute(value) },
    { name: 'retry: retry(fn, bridge options) (two loops per call)', run: () => retry(value, retryOptions) },
    {
      name: 'retry, nested budget view',
      run: () => retry(value, { ...retryOptions, budget: nestedRetryBudget(budget) }),
    },
    { name: 'telemetry: timeAttempts wrapper', run: () => timed(0, shared) },
    {
      name: 'transport: backend.requestJson (retry + breaker + fetch + JSON)',
      run: () =>
        backend.requestJson('/chat/completions', { json: { model: 'local' }, operation: 'sendLLMPrompt' }),
    },
    {
      name: 'transport piece: new AbortController().signal (now 1 per attempt, was 2 per request)',
      run: async () => new AbortController().signal,
    },
    {
      name: 'transport piece: new Headers(init) + set (was 3 per request, now none)',
      run: async () => {
        const headers = new Headers({ 'content-type': 'application/json' });
        headers.set('accept', 'application/json');
        return headers;
      },
    },
    {
      name: 'transport piece: add + remove an abort listener',
      run: async () => {
        shared.addEventListener('abort', value, { once: true });
        shared.removeEventListener('abort', value);
      },
    },
    {
      name: 'transport piece: clock setTimeout + clearTimeout',
      run: async () => clearTimeout(setTimeout(value, 30_000)),
    },
    {
      name: 'transport piece: http machine send(CALL_SUCCEEDED) (now only on a change)',
      run: async () => backend.actor.send({ type: 'CALL_SUCCEEDED', latencyMs: 1 }),
    },
    {
      name: 'availability piece: new Date().toISOString() (2 per status(), no longer per call)',
      run: async () => new Date().toISOString(),
    },
    { name: 'direct fetch + JSON (the call itself)', run: direct },
    { name: 'bridge.callTool (whole path)', run: viaBridge },
  ];
  const samples = await interleaved(cases, { rounds: 9, ops: 5_000, warmup: 2_000 });
  const bare = samples[0] as number[];
  console.log(
    formatTable(
      'Bridge path split: each piece alone, ns per call minus a bare await, median (p25–p75) of 9 interleaved rounds × 5,000 calls',
      ['piece', 'ns over bare await'],
      cases.map((c, i) => {
        const s = spread(i === 0 ? (samples[0] as number[]) : differences(samples[i] as number[], bare));
        return [c.name, `${s.median.toFixed(0)} (${s.p25.toFixed(0)}–${s.p75.toFixed(0)})`];
      }),
    ),
  );
  breaker.stop();
  await backend.stop();
  await bridge.stop();
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runBridgeSplit();
  process.exit(0);
}
