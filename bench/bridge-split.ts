/*
 * Where a tool call's overhead goes. HTTP without any network: `send_llm_prompt` through the bridge
 * against an in-process `fetch` that answers at once, beside the same request made directly.
 * WebSocket on loopback: `trigger_evolution` through the bridge against the lab's evolution daemon on
 * 127.0.0.1, beside the same request sent on a `ws` client of its own. HTTP again with a fresh
 * signal per call (as an MCP server passes each request's), beside the direct request given one too.
 * Then the WebSocket call split in two (the backend's `request()` alone, then the tool), and each
 * piece of the HTTP path timed in isolation (minus a bare `await`). Everything in interleaved rounds.
 * And `send_llm_prompt` again with the caches cold before each call (as between real round trips).
 * Alone: `npx tsx --expose-gc bench/bridge-split.ts`. `BASELINE=<checkout of an earlier commit>`
 * (its own `npm ci`, or a `node_modules` link to this clone's, as the README says) adds that
 * version's bridge to both head-to-heads, in the same interleaved rounds (before/after in one run);
 * `BASELINE_LABEL` names it.
 */
import { pathToFileURL } from 'node:url';
import { WebSocket } from 'ws';
import { createHttpBackend, type FetchLike } from '../src/backends/http.js';
import { createTransport } from '../src/backends/http-transport.js';
import { NodeWebSocket } from '../src/backends/node-websocket.js';
import type { SocketBackend } from '../src/backends/socket.js';
import { createBridge } from '../src/bridge/create-bridge.js';
import type { BridgeConfig } from '../src/bridge/types.js';
import { systemClock } from '../src/clock.js';
import { startLab } from '../src/lab/index.js';
import { createCircuitBreaker } from '../src/reliability/breaker.js';
import { retry } from '../src/reliability/retry.js';
import { createRetryBudget, nestedRetryBudget } from '../src/reliability/retry-budget.js';
import { createRetryMetrics } from '../src/reliability/retry-metrics.js';
import { createReliabilityEventHub } from '../src/telemetry/events.js';
import { traceToolCall } from '../src/telemetry/tracing.js';
import { assertAvailable } from '../src/tools/availability.js';
import { safeParse } from '../src/tools/parse.js';
import { sendLlmPromptInput } from '../src/tools/send-llm-prompt.js';
import { differences, interleaved, paired, pairRow, spread, type TimedCase, us } from './interleave.js';
import { formatTable } from './table.js';

const quiet = { warn: () => {}, info: () => {}, error: () => {}, debug: () => {} };
const completion = JSON.stringify({
  model: 'local',
  choices: [{ message: { content: 'ok' } }],
  usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
});
const ignore = () => {};
/**
 * Answers at once; honours a signal as a real `fetch` does (one abort listener while the request is
 * in flight), so the bridge's own attempt signal and a caller's signal passed directly cost here what
 * they cost with undici.
 */
const fakeFetch: FetchLike = async (_url, init) => {
  const signal = init?.signal;
  if (signal?.aborted) throw signal.reason;
  signal?.addEventListener('abort', ignore, { once: true });
  try {
    return new Response(completion, { status: 200, headers: { 'content-type': 'application/json' } });
  } finally {
    signal?.removeEventListener('abort', ignore);
  }
};
const BASE = 'http://127.0.0.1:1/v1';
const args = { prompt: 'hello lab', max_tokens: 16 };
const value = async () => 1;

const evolveArgs = { seed_shader: 'void main(){}', generations: 1 };
/** The frame `trigger_evolution` sends for `evolveArgs` (defaults filled), but its `requestId`. */
const evolveFrame = {
  action: 'evolve',
  ...evolveArgs,
  fitness_metric: 'performance',
  mutation_rate: 0.1,
  population_size: 20,
};

/** One bridge: lmStudio on the in-process fetch, evolution on the lab; the other defaults off. */
const bridgeConfig = (evolutionUrl: string): BridgeConfig => ({
  fetch: fakeFetch,
  WebSocket: NodeWebSocket,
  logger: quiet,
  surface: false,
  backends: {
    lmStudio: { url: BASE },
    evolution: { url: evolutionUrl },
    agents: { enabled: false },
    a2a: { enabled: false },
  },
});

interface BenchBridge {
  label: string;
  llm: () => Promise<void>;
  /** `send_llm_prompt` with a signal of its own, as an MCP server passes each request's. */
  llmSignal: () => Promise<void>;
  evolve: () => Promise<void>;
  /** The same `evolve` frame as `request()` on the bridge's evolution backend: no tool layer. */
  evolveBackend: () => Promise<void>;
  stop: () => Promise<void>;
}

/** A bridge of `createBridge` (this version's or a baseline's) with its two backends started. */
async function benchBridge(
  label: string,
  create: (config: BridgeConfig) => ReturnType<typeof createBridge>,
  evolutionUrl: string,
): Promise<BenchBridge> {
  const bridge = create(bridgeConfig(evolutionUrl));
  bridge.backend('lmStudio')?.start();
  const evolution = bridge.backend('evolution');
  if (!evolution) throw new Error('bench setup: no evolution backend');
  evolution.start();
  let sent = 0;
  const deadline = Date.now() + 10_000;
  while (evolution.status().state !== 'CONNECTED') {
    if (Date.now() > deadline) throw new Error(`bench setup: ${label} evolution not connected`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    label,
    llm: async () => {
      const result = await bridge.callTool('send_llm_prompt', args);
      if (!result.success) throw new Error(`${label} send_llm_prompt failed: ${result.error}`);
    },
    llmSignal: async () => {
      const result = await bridge.callTool('send_llm_prompt', args, { signal: new AbortController().signal });
      if (!result.success) throw new Error(`${label} send_llm_prompt failed: ${result.error}`);
    },
    evolve: async () => {
      const result = await bridge.callTool('trigger_evolution', evolveArgs);
      if (!result.success) throw new Error(`${label} trigger_evolution failed: ${result.error}`);
    },
    evolveBackend: async () => {
      const socket = evolution as SocketBackend;
      await socket.request({ requestId: `evo_${Date.now()}_${(sent++).toString(36)}`, ...evolveFrame });
    },
    stop: () => bridge.stop(),
  };
}

/** The bridge of the checkout named by `BASELINE`, if any, on the same fetch and lab. */
async function baselineBridge(evolutionUrl: string): Promise<BenchBridge | undefined> {
  const dir = process.env.BASELINE;
  if (!dir) return undefined;
  const module = (await import(pathToFileURL(`${dir}/src/bridge/create-bridge.ts`).href)) as {
    createBridge: typeof createBridge;
  };
  return benchBridge(process.env.BASELINE_LABEL ?? dir, module.createBridge, evolutionUrl);
}

/** `evolve` requests on a `ws` client of its own: what the bridge's WebSocket call is compared with. */
async function directEvolution(url: string): Promise<{ call: () => Promise<void>; close: () => void }> {
  const socket = new WebSocket(url);
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  const waiting = new Map<string, () => void>();
  socket.on('message', (data: Buffer) => {
    const reply = JSON.parse(String(data)) as { requestId?: string };
    const done = reply.requestId === undefined ? undefined : waiting.get(reply.requestId);
    if (!done) return;
    waiting.delete(reply.requestId as string);
    done();
  });
  let next = 0;
  return {
    call: () =>
      new Promise<void>((resolve) => {
        const requestId = `evo_${Date.now()}_${(next++).toString(36)}`;
        waiting.set(requestId, resolve);
        socket.send(JSON.stringify({ requestId, ...evolveFrame }));
      }),
    close: () => socket.close(),
  };
}

export async function runBridgeSplit(): Promise<void> {
  const lab = await startLab({ wsPort: 0, httpPort: 0, controlPort: 0 });
  const current = await benchBridge('this version', createBridge, lab.urls.evolution);
  const baseline = await baselineBridge(lab.urls.evolution);
  const bridges = baseline ? [baseline, current] : [current];
  const direct = async (signal?: AbortSignal) => {
    const response = await fakeFetch(`${BASE}/chat/completions`, {
      method: 'POST',
      ...(signal ? { signal } : {}),
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({
        model: 'local',
        messages: [{ role: 'user', content: args.prompt }],
        max_tokens: 16,
      }),
    });
    await response.json();
  };
  const socket = await directEvolution(lab.urls.evolution);
  const rounds = 15;
  const headToHead = await interleaved(
    [
      { name: 'http direct', run: () => direct() },
      ...bridges.map((b) => ({ name: `http ${b.label}`, run: b.llm })),
      { name: 'http direct, signal', run: () => direct(new AbortController().signal) },
      ...bridges.map((b) => ({ name: `http ${b.label}, signal`, run: b.llmSignal })),
      { name: 'ws direct', run: socket.call },
      ...bridges.map((b) => ({ name: `ws ${b.label}`, run: b.evolve })),
    ],
    { rounds, ops: 3_000, warmup: 3_000 },
  );
  const n = bridges.length;
  const httpDirect = headToHead[0] as number[];
  const signalDirect = headToHead[1 + n] as number[];
  const wsDirect = headToHead[2 + 2 * n] as number[];
  const rows: string[][] = [];
  for (const [kind, directSamples, offset] of [
    ['send_llm_prompt, in-process fetch', httpDirect, 1],
    ["send_llm_prompt with a caller's signal (an MCP request's)", signalDirect, 2 + n],
    ['trigger_evolution, lab socket on 127.0.0.1', wsDirect, 3 + 2 * n],
  ] as const) {
    for (const [i, b] of bridges.entries()) {
      const through = headToHead[offset + i] as number[];
      rows.push([
        kind,
        b.label,
        us(spread(directSamples), 2),
        us(spread(through), 2),
        us(spread(differences(through, directSamples)), 2),
      ]);
    }
  }
  console.log(
    formatTable(
      `A tool call through the bridge vs the same request made directly: µs per call, median (p25–p75) of ${rounds} interleaved rounds × 3,000 sequential calls`,
      ['call', 'bridge', 'direct', 'through the bridge', 'overhead (per-round difference)'],
      rows,
    ),
  );

  // Where the WebSocket call's overhead goes: the backend's request() alone, then the whole tool.
  const wsSplit = await interleaved(
    [
      { name: 'ws direct', run: socket.call },
      { name: 'backend request', run: current.evolveBackend },
      { name: 'tool call', run: current.evolve },
    ],
    { rounds, ops: 3_000, warmup: 3_000 },
  );
  const [wsAlone, wsBackend, wsTool] = wsSplit as [number[], number[], number[]];
  console.log(
    formatTable(
      `WebSocket path split (this version): µs per call, median (p25–p75) of ${rounds} interleaved rounds × 3,000 sequential calls`,
      ['step', 'µs per call', 'over the step before (per-round difference)'],
      [
        ['ws direct: the frame on a `ws` client of its own', us(spread(wsAlone), 2), ''],
        [
          'backend: evolution.request(frame) (requests, outbox, frames, breaker bookkeeping)',
          us(spread(wsBackend), 2),
          us(spread(differences(wsBackend, wsAlone)), 2),
        ],
        [
          'tool: bridge.callTool (registry, zod in and out, context, handler)',
          us(spread(wsTool), 2),
          us(spread(differences(wsTool, wsBackend)), 2),
        ],
      ],
    ),
  );
  // A tool call with the caches cold, as between real round trips (where the lab table's overhead is
  // several times the one above): a sweep of 4 MB and a JSON parse before each call, untimed.
  const sweep = new Float64Array(1 << 19);
  const doc = JSON.stringify(Array.from({ length: 1_000 }, (_, i) => ({ i, s: `x${i}`, a: [i, i + 1] })));
  let sink = 0;
  const between = () => {
    for (let i = 0; i < sweep.length; i += 8) sink += sweep[i] as number;
    sink += (JSON.parse(doc) as unknown[]).length;
  };
  const coldRows: string[][] = [];
  for (const b of bridges) {
    const cold = await paired(() => direct(), b.llm, { pairs: 3_000, warmup: 300, between });
    coldRows.push(pairRow(b.label, cold, 2));
  }
  if (sink < 0) throw new Error('unreachable');
  console.log(
    formatTable(
      'send_llm_prompt with the caches cold (a 4 MB sweep and a JSON parse before each call, untimed), in-process fetch: µs per call, median (p25–p75) of 3,000 pairs of calls, direct and through the bridge one after the other',
      ['bridge', 'direct fetch + JSON', 'through the bridge', 'overhead (difference within each pair)'],
      coldRows,
    ),
  );
  socket.close();
  for (const b of bridges) await b.stop();
  await lab.stop();

  // The pieces, on a bridge of their own (HTTP only).
  const bridge = createBridge({
    fetch: fakeFetch,
    logger: quiet,
    surface: false,
    backends: { lmStudio: { url: BASE } },
  });
  const lm = bridge.backend('lmStudio');
  if (!lm) throw new Error('bench setup: no lmStudio backend');
  lm.start();
  const viaBridge = async () => {
    const result = await bridge.callTool('send_llm_prompt', args);
    if (!result.success) throw new Error(`send_llm_prompt failed: ${result.error}`);
  };

  const schema = sendLlmPromptInput();
  const budget = createRetryBudget();
  const metrics = createRetryMetrics();
  const breaker = createCircuitBreaker({ name: 'split' });
  // The HTTP kind's default rule in a bridge: every success is an event for its sliding window.
  const rateBreaker = createCircuitBreaker({ name: 'split-rate', rule: { kind: 'failureRate' } });
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
  const stopSignal = new AbortController().signal;
  const transport = createTransport({
    name: 'split',
    base: BASE,
    baseQuery: '',
    headers: {},
    fetch: fakeFetch,
    clock: systemClock,
    stopSignal,
  });
  const body = {
    json: { model: 'local', messages: [{ role: 'user', content: args.prompt }], max_tokens: 16 },
  };
  const prepared = transport.prepare('/chat/completions', body, true);
  const ok = { success: true } as const;
  // Built once, as the backend does: a spread-then-add per call would time V8's slow path instead.
  const retryUnderSignal = { ...retryOptions, signal: shared };
  const retryNested = { ...retryOptions, budget: nestedRetryBudget(budget) };
  const cases: TimedCase[] = [
    { name: 'bare await fn() (subtracted from every row)', run: value },
    { name: 'registry: traceToolCall, OpenTelemetry off', run: () => traceToolCall('t', {}, async () => ok) },
    { name: 'validation: zod safeParse of the arguments', run: async () => schema.safeParse(args) },
    {
      name: "validation: the registry's safeParse (a shortcut built from the zod schema)",
      run: async () => safeParse(schema, args),
    },
    {
      name: 'availability: assertAvailable (state + canAdmit(), no status())',
      run: async () => assertAvailable(lm, 0),
    },
    { name: 'budget: onCall()', run: async () => budget.onCall() },
    { name: 'breaker: execute(fn)', run: () => breaker.execute(value) },
    {
      name: "breaker: execute(fn), failure-rate rule (a bridge's HTTP default)",
      run: () => rateBreaker.execute(value),
    },
    { name: 'retry: retry(fn, options) (no signal)', run: () => retry(value, retryOptions) },
    {
      name: "retry: retry(fn, options + signal) (the backend's: abort listener)",
      run: () => retry(value, retryUnderSignal),
    },
    {
      name: 'ctx.run only: retry with the nested budget view',
      run: () => retry(value, retryNested),
    },
    { name: 'ctx.run only: telemetry timeAttempts wrapper', run: () => timed(0, shared) },
    {
      name: 'transport: prepare (URL, headers, JSON body), once per request',
      run: async () => transport.prepare('/chat/completions', body, true),
    },
    {
      name: 'transport: exchange (pooled controller, timer, fetch + body), once per attempt',
      run: () => transport.exchange(prepared, 60_000, stopSignal, 1),
    },
    {
      name: 'transport piece: new AbortController().signal (what the pool of idle controllers saves per attempt)',
      run: async () => new AbortController().signal,
    },
    {
      name: 'transport piece: clock setTimeout + clearTimeout (1 per attempt)',
      run: async () => clearTimeout(setTimeout(value, 30_000)),
    },
    {
      name: 'backend: requestJson (prepare + retry + throttle + breaker + exchange + JSON)',
      run: () =>
        backend.requestJson('/chat/completions', { json: { model: 'local' }, operation: 'sendLLMPrompt' }),
    },
    { name: 'direct fetch + JSON (the call itself)', run: () => direct() },
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
  rateBreaker.stop();
  await backend.stop();
  await bridge.stop();
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runBridgeSplit();
  process.exit(0);
}
