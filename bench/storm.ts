/*
 * Retry-storm benchmark, on a manual clock: 100 callers, each starting one logical call every 100 ms
 * of simulated time (open loop, a random phase per caller) for 60 simulated seconds, against a
 * simulated backend that counts the calls reaching it (no sockets). Printed side by side, in one run:
 *
 * - ours: the bridge's LLM path with its defaults (`createBridge` → `send_llm_prompt` → tool-level
 *   retry → HTTP backend retry through its breaker, one retry budget for the backend), the backend's
 *   `fetch` simulated. "ours, breaker held CLOSED" is the same with `failureThreshold` out of reach, to
 *   show what the budget alone bounds.
 * - naive: `retry()` with 3 retries, no breaker, no budget.
 * - cockatiel: `wrap(retry(handleAll, { maxAttempts: 3 }), circuitBreaker(handleAll, { halfOpenAfter:
 *   30_000, breaker: new ConsecutiveBreaker(5) }))`, as given (its default backoff, ConstantBackoff(0)).
 *   Cockatiel reads `Date.now` and the global `setTimeout`; while it runs, both are pointed at the
 *   manual clock (fake time, as vitest's fake timers would), and restored afterwards.
 *
 * Scenario A: the backend fails 50 % of calls at random. Scenario B: the backend is dead; 100 bridges
 * (100 breakers, `resetJitter` 0.2 by default) with one caller each: the calls that reach the backend
 * after a breaker tripped, and the most of them in any 100 ms.
 * Alone: `npx tsx bench/storm.ts`.
 */
import { pathToFileURL } from 'node:url';
import { ConsecutiveBreaker, circuitBreaker, retry as cockatielRetry, handleAll, wrap } from 'cockatiel';
import type { FetchLike } from '../src/backends/http.js';
import { createBridge } from '../src/bridge/create-bridge.js';
import type { Bridge } from '../src/bridge/types.js';
import { createManualClock, type ManualClock } from '../src/clock.js';
import { mulberry32 } from '../src/lab/faults.js';
import { retry } from '../src/reliability/retry.js';
import { createRetryMetrics } from '../src/reliability/retry-metrics.js';
import { formatTable } from './table.js';

export type StormStrategy = 'ours' | 'ours-closed' | 'naive' | 'cockatiel';

export interface StormOptions {
  strategy: StormStrategy;
  /** Share of calls the backend fails, in [0, 1]. 1: a dead backend. */
  failureRate: number;
  /** Default 100. */
  callers?: number;
  /** Simulated seconds of calling. Default 60. */
  seconds?: number;
  /** Time between two calls of one caller. Default 100 ms. */
  periodMs?: number;
  /** Time the backend takes to answer. Default 10 ms. */
  latencyMs?: number;
  /** One bridge (or cockatiel policy) per caller instead of one shared by all. Default false. */
  perCaller?: boolean;
  /** Seed of every random draw. Default 1. */
  seed?: number;
}

export interface StormResult {
  strategy: StormStrategy;
  logicalCalls: number;
  /** Calls that reached the backend (retries and probes included). */
  backendCalls: number;
  /** Of those, the HTTP backend's own health probes (GET /models): not caused by any logical call. */
  probeCalls: number;
  /** Logical calls of which at least one attempt reached the backend. */
  reachedCalls: number;
  /** Retries started (attempts after a logical call's first, whether or not a breaker let them through). */
  retries: number;
  /** Entries into OPEN, summed over breakers. */
  opens: number;
  /** Times (ms) of every backend call, in order. */
  times: number[];
  /** Times (ms) of backend calls made after the caller's breaker first tripped. */
  afterTrip: number[];
  /** Of those, how many ran while that breaker was HALF_OPEN (ours only; null otherwise). */
  afterTripHalfOpen: number | null;
}

/** The most values of sorted `times` in any half-open interval of `widthMs`. */
export function maxInWindow(times: readonly number[], widthMs: number): number {
  let max = 0;
  let start = 0;
  for (let end = 0; end < times.length; end++) {
    while ((times[end] as number) - (times[start] as number) >= widthMs) start++;
    max = Math.max(max, end - start + 1);
  }
  return max;
}

interface SimulatedBackend {
  /** One call reaching the backend for logical call `id` (-1: not a logical call, e.g. a probe). */
  hit(id: number, owner: number): Promise<boolean>;
  calls: number;
  probes: number;
  reached: Set<number>;
  times: number[];
  afterTrip: number[];
  afterTripHalfOpen: number;
}

function simulatedBackend(
  clock: ManualClock,
  random: () => number,
  failureRate: number,
  latencyMs: number,
  trippedAt: (owner: number) => number | undefined,
  halfOpen: (owner: number) => boolean,
): SimulatedBackend {
  const backend: SimulatedBackend = {
    calls: 0,
    probes: 0,
    reached: new Set(),
    times: [],
    afterTrip: [],
    afterTripHalfOpen: 0,
    hit(id, owner) {
      backend.calls++;
      backend.times.push(clock.now());
      if (id >= 0) backend.reached.add(id);
      else backend.probes++;
      if (trippedAt(owner) !== undefined) {
        backend.afterTrip.push(clock.now());
        if (halfOpen(owner)) backend.afterTripHalfOpen++;
      }
      const ok = random() >= failureRate;
      return new Promise((resolve) => clock.setTimeout(() => resolve(ok), latencyMs));
    },
  };
  return backend;
}

const silent = { warn() {}, info() {}, error() {}, debug() {} };
const completion = JSON.stringify({
  model: 'sim',
  choices: [{ message: { content: 'ok' } }],
  usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
});

/** The logical call id a `send_llm_prompt` request carries in its prompt (-1 for probes). */
function idOf(body: unknown): number {
  if (typeof body !== 'string') return -1;
  const messages = (JSON.parse(body) as { messages?: Array<{ content?: string }> }).messages;
  const content = messages?.at(-1)?.content;
  return content === undefined ? -1 : Number(content);
}

/** Points `Date.now` and the global timers at `clock` while `run` runs (cockatiel reads them). */
async function withFakeTime<T>(clock: ManualClock, run: () => Promise<T>): Promise<T> {
  const saved = { now: Date.now, setTimeout: globalThis.setTimeout, clearTimeout: globalThis.clearTimeout };
  Date.now = () => clock.now();
  globalThis.setTimeout = ((fn: () => void, ms?: number) =>
    clock.setTimeout(fn, ms ?? 0)) as typeof setTimeout;
  globalThis.clearTimeout = ((handle: unknown) => clock.clearTimeout(handle)) as typeof clearTimeout;
  try {
    return await run();
  } finally {
    Date.now = saved.now;
    globalThis.setTimeout = saved.setTimeout;
    globalThis.clearTimeout = saved.clearTimeout;
  }
}

/** Runs one strategy through one scenario and counts what reached the backend. */
export async function runStorm(options: StormOptions): Promise<StormResult> {
  const callers = options.callers ?? 100;
  const endMs = (options.seconds ?? 60) * 1000;
  const periodMs = options.periodMs ?? 100;
  const latencyMs = options.latencyMs ?? 10;
  const seed = options.seed ?? 1;
  const { strategy, failureRate } = options;
  const owners = options.perCaller ? callers : 1;
  const clock = createManualClock();
  const random = mulberry32(seed);
  const tripped: Array<number | undefined> = new Array(owners).fill(undefined);
  const bridges: Bridge[] = [];
  const halfOpen = (owner: number) => bridges[owner]?.backend('lmStudio')?.breaker.state === 'HALF_OPEN';
  const backend = simulatedBackend(
    clock,
    mulberry32(seed + 1),
    failureRate,
    latencyMs,
    (owner) => tripped[owner],
    halfOpen,
  );
  let opens = 0;
  let cockatielRetries = 0;
  const metrics = createRetryMetrics();
  let call: (id: number, owner: number) => Promise<unknown>;

  if (strategy === 'ours' || strategy === 'ours-closed') {
    for (let owner = 0; owner < owners; owner++) {
      const fetch: FetchLike = async (_url, init) => {
        const ok = await backend.hit(idOf(init.body), owner);
        return ok ? new Response(completion, { status: 200 }) : new Response('overloaded', { status: 503 });
      };
      const bridge = createBridge({
        clock,
        random: mulberry32(seed * 1000 + owner),
        fetch,
        logger: silent,
        surface: false,
        backends: {
          lmStudio: strategy === 'ours-closed' ? { options: { breaker: { failureThreshold: 1e9 } } } : {},
        },
      });
      bridge.backend('lmStudio')?.subscribe(() => {
        if (tripped[owner] === undefined && bridge.backend('lmStudio')?.breaker.state === 'OPEN')
          tripped[owner] = clock.now();
      });
      // Only the HTTP backend runs (its probes included): the socket backends are never connected.
      bridge.backend('lmStudio')?.start();
      bridges.push(bridge);
    }
    call = (id, owner) => (bridges[owner] as Bridge).callTool('send_llm_prompt', { prompt: String(id) });
  } else if (strategy === 'naive') {
    call = (id, owner) =>
      retry(
        async () => {
          if (!(await backend.hit(id, owner))) throw new Error('overloaded');
        },
        { maxRetries: 3, clock, random, metrics },
      );
  } else {
    const policies = Array.from({ length: owners }, (_, owner) => {
      const breaker = circuitBreaker(handleAll, {
        halfOpenAfter: 30_000,
        breaker: new ConsecutiveBreaker(5),
      });
      breaker.onBreak(() => {
        opens++;
        tripped[owner] ??= clock.now();
      });
      const retryPolicy = cockatielRetry(handleAll, { maxAttempts: 3 });
      retryPolicy.onRetry(() => cockatielRetries++);
      return wrap(retryPolicy, breaker);
    });
    call = (id, owner) =>
      (policies[owner] as (typeof policies)[number]).execute(async () => {
        if (!(await backend.hit(id, owner))) throw new Error('overloaded');
      });
  }

  let logicalCalls = 0;
  let pending = 0;
  const startCaller = (caller: number) => {
    const tick = () => {
      if (clock.now() >= endMs) return;
      const id = logicalCalls++;
      pending++;
      call(id, options.perCaller ? caller : 0)
        .catch(() => undefined)
        .finally(() => pending--);
      clock.setTimeout(tick, periodMs);
    };
    clock.setTimeout(tick, random() * periodMs);
  };

  const simulate = async () => {
    for (let caller = 0; caller < callers; caller++) startCaller(caller);
    await clock.advance(endMs);
    // Let the calls still running finish (no new ones start), at most one more minute.
    for (let waited = 0; pending > 0 && waited < 60_000; waited += periodMs) await clock.advance(periodMs);
  };
  if (strategy === 'cockatiel') await withFakeTime(clock, simulate);
  else await simulate();

  let retries = strategy === 'cockatiel' ? cockatielRetries : metrics.snapshot().totalRetries;
  for (const bridge of bridges) {
    opens += bridge.backend('lmStudio')?.breaker.metrics().openCount ?? 0;
    retries += bridge.retryMetrics.snapshot().totalRetries;
    const stopping = bridge.stop();
    await clock.advance(1);
    await stopping;
  }
  return {
    strategy,
    logicalCalls,
    backendCalls: backend.calls,
    probeCalls: backend.probes,
    reachedCalls: backend.reached.size,
    retries,
    opens,
    times: backend.times,
    afterTrip: backend.afterTrip,
    afterTripHalfOpen: strategy === 'ours' ? backend.afterTripHalfOpen : null,
  };
}

const LABELS: Record<StormStrategy, string> = {
  ours: 'ours (bridge LLM path defaults)',
  'ours-closed': 'ours, breaker held CLOSED (budget alone)',
  naive: 'naive retry (3 retries, no breaker)',
  cockatiel: 'cockatiel wrap(retry 3, breaker 5)',
};

const ratio = (a: number, b: number) => (b === 0 ? '–' : `${(a / b).toFixed(3)}×`);

export async function runStormBench(): Promise<void> {
  const strategies: StormStrategy[] = ['ours', 'ours-closed', 'naive', 'cockatiel'];
  const a: string[][] = [];
  for (const strategy of strategies) {
    const r = await runStorm({ strategy, failureRate: 0.5 });
    a.push([
      LABELS[strategy],
      String(r.logicalCalls),
      String(r.backendCalls - r.probeCalls),
      String(r.probeCalls),
      ratio(r.backendCalls - r.probeCalls, r.logicalCalls),
      ratio(r.backendCalls - r.probeCalls, r.reachedCalls),
      String(r.retries),
      String(r.opens),
    ]);
  }
  console.log(
    formatTable(
      'Scenario A: backend failing 50 % at random — 100 callers × 10 calls/s × 60 s (simulated)',
      [
        'strategy',
        'logical calls',
        'backend calls (tool)',
        '+ health probes',
        'backend ÷ logical',
        'backend ÷ logical calls that reached it',
        'retries started',
        'breaker opens',
      ],
      a,
    ),
  );

  const b: string[][] = [];
  for (const strategy of ['ours', 'naive', 'cockatiel'] as const) {
    const r = await runStorm({ strategy, failureRate: 1, perCaller: true });
    const after = r.afterTrip;
    b.push([
      LABELS[strategy],
      String(r.logicalCalls),
      String(r.backendCalls),
      strategy === 'naive' ? '– (no breaker)' : String(after.length),
      r.afterTripHalfOpen === null ? '–' : String(r.afterTripHalfOpen),
      strategy === 'naive' ? '–' : String(maxInWindow(after, 100)),
      strategy === 'naive' ? '–' : String(new Set(after.map((t) => Math.floor(t / 100))).size),
      String(maxInWindow(r.times, 100)),
    ]);
  }
  console.log(
    formatTable(
      'Scenario B: dead backend — 100 bridges (one breaker each) × 1 caller × 10 calls/s × 60 s',
      [
        'strategy',
        'logical calls',
        'backend calls',
        'after the trip',
        'of which HALF_OPEN trials',
        'max in any 100 ms after the trip',
        '100 ms slots they fall in',
        'max in any 100 ms (whole run)',
      ],
      b,
    ),
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runStormBench();
  process.exit(0);
}
