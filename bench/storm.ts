/*
 * Retry-storm simulation, on a manual clock: `callers` callers, each starting one logical call every
 * 100 ms of simulated time (open loop, a random phase per caller), against a simulated backend that
 * counts the calls reaching it (no sockets). `runStorm` runs one strategy through one scenario; the
 * tables are printed by bench/storm-report.ts. Strategies:
 *
 * - ours: the bridge's LLM path with its defaults (`createBridge` → `send_llm_prompt` → tool-level
 *   retry → HTTP backend retry through its breaker and adaptive throttle, one retry budget for the
 *   backend), the backend's `fetch` simulated. "ours, breaker held CLOSED" is the same with
 *   `failureThreshold` out of reach and the throttle off, to show what the budget alone bounds.
 * - parts / parts-throttle: see {@link StormStrategy}.
 * - naive: `retry()` with 3 retries, no breaker, no budget.
 * - cockatiel: `wrap(retry(handleAll, { maxAttempts: 3 }), circuitBreaker(handleAll, { halfOpenAfter:
 *   30_000, breaker: new ConsecutiveBreaker(5) }))`, as given (its default backoff, ConstantBackoff(0)).
 *   Cockatiel reads `Date.now` and the global `setTimeout`; while it runs, both are pointed at the
 *   manual clock (fake time, as vitest's fake timers would), and restored afterwards.
 */
import { ConsecutiveBreaker, circuitBreaker, retry as cockatielRetry, handleAll, wrap } from 'cockatiel';
import type { FetchLike } from '../src/backends/http.js';
import { createBridge } from '../src/bridge/create-bridge.js';
import type { Bridge } from '../src/bridge/types.js';
import { createManualClock } from '../src/clock.js';
import { mulberry32 } from '../src/lab/faults.js';
import { createCircuitBreaker } from '../src/reliability/breaker.js';
import type { BreakerRuleOptions } from '../src/reliability/breaker-rule-options.js';
import { BrokenCircuitError } from '../src/reliability/errors.js';
import { retry } from '../src/reliability/retry.js';
import { createRetryBudget } from '../src/reliability/retry-budget.js';
import { createRetryMetrics } from '../src/reliability/retry-metrics.js';
import { createAdaptiveThrottle, ThrottledError } from '../src/reliability/throttle.js';
import { simulatedBackend, withFakeTime } from './storm-sim.js';

export { maxInWindow } from './storm-sim.js';

/**
 * - `ours`, `ours-closed`: the whole bridge LLM path (see above).
 * - `parts`: the same reliability pieces composed directly, as the HTTP backend does for
 *   `sendLLMPrompt` (2 retries from 500 ms, budget with its defaults, consecutive breaker 5 /
 *   30 s / resetJitter 0.2), without the bridge around them (faster to simulate, one loop not two).
 * - `parts-throttle`: `parts` with an adaptive throttle (`throttleK`, default 2) in front of every
 *   attempt; a throttled attempt is not retried.
 */
export type StormStrategy = 'ours' | 'ours-closed' | 'naive' | 'cockatiel' | 'parts' | 'parts-throttle';

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
  /** Calls per second the backend can serve; beyond it calls fail. Default: unlimited. */
  capacityPerSecond?: number;
  /** `k` of the adaptive throttle (`parts-throttle`). Default 2. */
  throttleK?: number;
  /** `parts*`: hold the breaker CLOSED (failureThreshold out of reach). Default false. */
  holdClosed?: boolean;
  /** `parts*`: the breaker's trip rule. Default the consecutive rule. */
  rule?: BreakerRuleOptions;
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
  /** Logical calls that succeeded. */
  succeeded: number;
  /** Attempts rejected locally by an adaptive throttle. */
  throttled: number;
  /** Simulated ms during which logical calls started. */
  durationMs: number;
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
  const halfOpenOf: Array<() => boolean> = [];
  const halfOpen = (owner: number) =>
    bridges[owner]?.backend('lmStudio')?.breaker.state === 'HALF_OPEN' || halfOpenOf[owner]?.() === true;
  const backend = simulatedBackend({
    clock,
    random: mulberry32(seed + 1),
    failureRate,
    latencyMs,
    ...(options.capacityPerSecond === undefined ? {} : { capacityPerSecond: options.capacityPerSecond }),
    trippedAt: (owner) => tripped[owner],
    halfOpen,
  });
  let throttledAttempts = 0;
  let opens = 0;
  let cockatielRetries = 0;
  const metrics = createRetryMetrics();
  let call: (id: number, owner: number) => Promise<unknown>;
  let stopAll = () => {};

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
          // Held CLOSED and unthrottled: what the retry budget alone bounds.
          lmStudio:
            strategy === 'ours-closed'
              ? { options: { breaker: { failureThreshold: 1e9 } }, throttle: false }
              : {},
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
  } else if (strategy === 'parts' || strategy === 'parts-throttle') {
    const parts = Array.from({ length: owners }, (_, owner) => {
      const breaker = createCircuitBreaker({
        name: `lmStudio${owner}`,
        ...(options.holdClosed ? { failureThreshold: 1e9 } : {}),
        ...(options.rule ? { rule: options.rule } : {}),
        clock,
        resetJitter: 0.2,
        random: mulberry32(seed * 1000 + owner),
      });
      breaker.actor.subscribe((snapshot) => {
        if (tripped[owner] === undefined && snapshot.value === 'OPEN') tripped[owner] = clock.now();
      });
      const throttle =
        strategy === 'parts-throttle'
          ? createAdaptiveThrottle({ k: options.throttleK ?? 2, clock, random: mulberry32(seed * 7 + owner) })
          : undefined;
      halfOpenOf[owner] = () => breaker.state === 'HALF_OPEN';
      return { breaker, throttle, budget: createRetryBudget({ clock }) };
    });
    call = (id, owner) => {
      const { breaker, throttle, budget } = parts[owner] as (typeof parts)[number];
      const attempt = async () => {
        // While the breaker refuses, nothing reaches the backend: the throttle is not asked.
        if (throttle && breaker.state !== 'OPEN' && !throttle.admit()) {
          throttledAttempts++;
          throw new ThrottledError('lmStudio', throttle.snapshot().rejectProbability, 1_000);
        }
        try {
          await breaker.execute(async () => {
            if (!(await backend.hit(id, owner))) throw new Error('overloaded');
          });
          throttle?.record(true);
        } catch (error) {
          // A call its breaker refused never reached the backend: it tells the throttle nothing.
          if (throttle && !(error instanceof BrokenCircuitError)) throttle.record(false);
          throw error;
        }
      };
      return retry(attempt, {
        operation: 'sendLLMPrompt',
        clock,
        random,
        metrics,
        budget,
        shouldRetry: (error) => !(error instanceof ThrottledError),
      });
    };
    stopAll = () => {
      for (const { breaker } of parts) {
        opens += breaker.metrics().openCount;
        breaker.stop();
      }
    };
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
  let succeeded = 0;
  let pending = 0;
  const startCaller = (caller: number) => {
    const tick = () => {
      if (clock.now() >= endMs) return;
      const id = logicalCalls++;
      pending++;
      call(id, options.perCaller ? caller : 0)
        .then(
          (result) => {
            if ((result as { success?: boolean } | undefined)?.success !== false) succeeded++;
          },
          () => undefined,
        )
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

  stopAll();
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
    afterTripHalfOpen: strategy === 'ours' || strategy === 'parts' ? backend.afterTripHalfOpen : null,
    succeeded,
    throttled: throttledAttempts,
    durationMs: endMs,
  };
}
