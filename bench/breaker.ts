/*
 * Breaker and retry benchmark: our breaker beside cockatiel (3 and 4) and opossum (9 and 10) in one
 * process (the current majors under npm aliases: they declare Node ≥ 22 and run on Node 20), ns per
 * awaited call and the ratio to a bare `await fn()`, the CLOSED failure path, OPEN fast-fail, the cost
 * of one state change of the machine, heap per breaker (breaker-heap.ts), and heap growth over a
 * million calls. Every number printed is measured by this run. Alone: `npx tsx --expose-gc bench/breaker.ts`.
 * `BASELINE=<checkout of an earlier commit>` adds that version's breaker (success, failure, fast-fail
 * and heap rows) to the same run.
 */
import { pathToFileURL } from 'node:url';
import {
  ConsecutiveBreaker,
  circuitBreaker,
  retry as cockatielRetry,
  ExponentialBackoff,
  handleAll,
  wrap,
} from 'cockatiel';
import {
  ConsecutiveBreaker as ConsecutiveBreaker4,
  circuitBreaker as circuitBreaker4,
  handleAll as handleAll4,
} from 'cockatiel4';
import Opossum from 'opossum';
import Opossum10 from 'opossum10';
import { createActor, initialTransition, transition } from 'xstate';
import { breakerMachine } from '../machines/breaker.machine.js';
import { createManualClock } from '../src/clock.js';
import { createCircuitBreaker } from '../src/reliability/breaker.js';
import { pureTransition } from '../src/reliability/breaker-transition.js';
import { retry } from '../src/reliability/retry.js';
import { baseline, baselineLabel, heapPerBreaker, runBreakerHeapBench } from './breaker-heap.js';
import { formatTable, gc, heapUsed } from './table.js';

const ROUNDS = 9;
const OPS = 100_000;
/** A threshold no run reaches: the failure-path cases stay CLOSED. */
const NEVER = 1_000_000_000;
/** Reset timeout of the OPEN breakers of the fast-fail rows: an hour, longer than any run. */
const STAY_OPEN_MS = 3_600_000;

type Case = { name: string; run: () => Promise<unknown> };

async function loop(run: () => Promise<unknown>, ops: number): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) await run();
  return Number(process.hrtime.bigint() - start) / ops;
}

/**
 * Median ns per awaited call of each case. Rounds are interleaved (every case once per round), so a
 * load spike on the machine falls on all cases alike instead of on whichever ran at that moment.
 */
async function nsPerOp(cases: Case[]): Promise<number[]> {
  for (const c of cases) await loop(c.run, 20_000); // warm up
  const samples = cases.map(() => [] as number[]);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, c] of cases.entries()) samples[i]?.push(await loop(c.run, OPS));
  }
  return samples.map((s) => {
    s.sort((x, y) => x - y);
    return s[Math.floor(s.length / 2)] as number;
  });
}

const value = async () => 1;
const failing = async () => {
  throw new Error('down');
};

async function throughput(): Promise<void> {
  const ours = createCircuitBreaker({ name: 'bench' });
  const cockatiel = circuitBreaker(handleAll, { halfOpenAfter: 30_000, breaker: new ConsecutiveBreaker(5) });
  const opossum = new Opossum(value, { timeout: false, resetTimeout: 30_000 });
  const cockatiel4 = circuitBreaker4(handleAll4, {
    halfOpenAfter: 30_000,
    breaker: new ConsecutiveBreaker4(5),
  });
  const opossum10 = new Opossum10(value, { timeout: false, resetTimeout: 30_000 });
  const oursBaseline = baseline?.({ name: 'bench-baseline' });
  const oursForRetry = createCircuitBreaker({ name: 'bench-retry' });
  // The failure path while CLOSED: every failure is a state change of the machine (the count).
  const failingOurs = createCircuitBreaker({ name: 'failing', failureThreshold: NEVER });
  const failingBaseline = baseline?.({ name: 'failing-baseline', failureThreshold: NEVER });
  const failingCockatiel = circuitBreaker(handleAll, {
    halfOpenAfter: 30_000,
    breaker: new ConsecutiveBreaker(NEVER),
  });
  const failingCockatiel4 = circuitBreaker4(handleAll4, {
    halfOpenAfter: 30_000,
    breaker: new ConsecutiveBreaker4(NEVER),
  });
  const cockatielRetryBreaker = wrap(
    cockatielRetry(handleAll, { maxAttempts: 3, backoff: new ExponentialBackoff() }),
    circuitBreaker(handleAll, { halfOpenAfter: 30_000, breaker: new ConsecutiveBreaker(5) }),
  );

  // The OPEN breakers must stay OPEN through every round (the rounds take longer than 30 s on a busy
  // machine: a breaker that half-opened and closed would be timed on its success path).
  const openOurs = createCircuitBreaker({ name: 'open', failureThreshold: 1, resetTimeoutMs: STAY_OPEN_MS });
  await openOurs.execute(failing).catch(() => {});
  const openBaseline = baseline?.({
    name: 'open-baseline',
    failureThreshold: 1,
    resetTimeoutMs: STAY_OPEN_MS,
  });
  await openBaseline?.execute(failing).catch(() => {});
  const openCockatiel = circuitBreaker(handleAll, {
    halfOpenAfter: STAY_OPEN_MS,
    breaker: new ConsecutiveBreaker(1),
  });
  await openCockatiel.execute(failing).catch(() => {});
  const openCockatiel4 = circuitBreaker4(handleAll4, {
    halfOpenAfter: STAY_OPEN_MS,
    breaker: new ConsecutiveBreaker4(1),
  });
  await openCockatiel4.execute(failing).catch(() => {});
  const openOpossum10 = new Opossum10(failing, {
    timeout: false,
    resetTimeout: STAY_OPEN_MS,
    volumeThreshold: 0,
    errorThresholdPercentage: 1,
  });
  await openOpossum10.fire().catch(() => {});
  openOpossum10.on('reject', () => {});
  const openOpossum = new Opossum(failing, {
    timeout: false,
    resetTimeout: STAY_OPEN_MS,
    volumeThreshold: 0,
    errorThresholdPercentage: 1,
  });
  await openOpossum.fire().catch(() => {});
  if (openOurs.state !== 'OPEN' || !openOpossum.opened || !openOpossum10.opened)
    throw new Error('bench setup: breakers did not open');
  openOpossum.on('reject', () => {});
  const swallow = (p: Promise<unknown>) => p.catch(() => undefined);

  const cases: Case[] = [
    { name: 'bare await fn()', run: () => value() },
    { name: 'mcp-lifeline breaker.execute', run: () => ours.execute(value) },
    ...(oursBaseline
      ? [{ name: `mcp-lifeline ${baselineLabel} breaker.execute`, run: () => oursBaseline.execute(value) }]
      : []),
    { name: 'cockatiel 3 circuitBreaker(ConsecutiveBreaker(5))', run: () => cockatiel.execute(value) },
    { name: 'cockatiel 4 circuitBreaker(ConsecutiveBreaker(5))', run: () => cockatiel4.execute(value) },
    { name: 'opossum 9 fire() (timeout off)', run: () => opossum.fire() },
    { name: 'opossum 10 fire() (timeout off)', run: () => opossum10.fire() },
    { name: 'mcp-lifeline retry(breaker.execute)', run: () => retry(() => oursForRetry.execute(value)) },
    { name: 'cockatiel wrap(retry, breaker)', run: () => cockatielRetryBreaker.execute(value) },
    { name: 'CLOSED failure: mcp-lifeline', run: () => swallow(failingOurs.execute(failing)) },
    ...(failingBaseline
      ? [
          {
            name: `CLOSED failure: mcp-lifeline ${baselineLabel}`,
            run: () => swallow(failingBaseline.execute(failing)),
          },
        ]
      : []),
    { name: 'CLOSED failure: cockatiel 3', run: () => swallow(failingCockatiel.execute(failing)) },
    { name: 'CLOSED failure: cockatiel 4', run: () => swallow(failingCockatiel4.execute(failing)) },
    { name: 'OPEN fast-fail: mcp-lifeline', run: () => swallow(openOurs.execute(value)) },
    ...(openBaseline
      ? [
          {
            name: `OPEN fast-fail: mcp-lifeline ${baselineLabel}`,
            run: () => swallow(openBaseline.execute(value)),
          },
        ]
      : []),
    { name: 'OPEN fast-fail: cockatiel 3', run: () => swallow(openCockatiel.execute(value)) },
    { name: 'OPEN fast-fail: cockatiel 4', run: () => swallow(openCockatiel4.execute(value)) },
    { name: 'OPEN fast-fail: opossum 9', run: () => swallow(openOpossum.fire()) },
    { name: 'OPEN fast-fail: opossum 10', run: () => swallow(openOpossum10.fire()) },
  ];
  const medians = await nsPerOp(cases);
  if (
    openOurs.state !== 'OPEN' ||
    openCockatiel.state !== 1 ||
    openCockatiel4.state !== 1 ||
    !openOpossum.opened
  )
    throw new Error('bench: an OPEN breaker left OPEN during the rounds; its fast-fail row would be wrong');
  const results = cases.map((c, i) => ({ name: c.name, ns: medians[i] as number }));
  const bare = results[0]?.ns ?? 1;
  console.log(
    formatTable(
      `Success path and fast-fail (median of ${ROUNDS} rounds × ${OPS.toLocaleString('en')} awaited calls)`,
      ['case', 'ns/op', '× bare await'],
      results.map((r) => [r.name, r.ns.toFixed(0), (r.ns / bare).toFixed(2)]),
    ),
  );
  for (const b of [ours, oursForRetry, openOurs, failingOurs]) b.stop();
  for (const b of [openBaseline, oursBaseline, failingBaseline]) b?.stop();
  for (const o of [opossum, openOpossum, opossum10, openOpossum10]) o.shutdown();
}

/**
 * What one state change costs the breaker's machine (a CLOSED FAILURE that counts), three ways: an
 * actor's `send`, the breaker's pure transition (breaker-transition.ts: one inert scope for every
 * breaker), and XState's `transition()` (a throwaway actor and system per call). Interleaved rounds.
 */
async function eventCost(): Promise<void> {
  const input = { failureThreshold: NEVER, resetTimeoutMs: 30_000, halfOpenMaxCalls: 3, successThreshold: 2 };
  const ops = 20_000;
  const actor = createActor(breakerMachine, { input }).start();
  let pure = pureTransition.initial(input)[0];
  let xstate = initialTransition(breakerMachine, input)[0];
  const event = { type: 'FAILURE', at: 0 } as const;
  const cases = [
    { name: 'actor.send(FAILURE)', run: () => actor.send(event) },
    {
      name: 'the breaker’s pure transition (shared inert scope)',
      run: () => {
        pure = pureTransition.next(pure, event)[0];
      },
    },
    {
      name: 'XState transition(machine, snapshot, FAILURE)',
      run: () => {
        xstate = transition(breakerMachine, xstate, event)[0];
      },
    },
  ];
  const samples = cases.map(() => [] as number[]);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, c] of cases.entries()) {
      const start = process.hrtime.bigint();
      for (let k = 0; k < ops; k++) c.run();
      samples[i]?.push(Number(process.hrtime.bigint() - start) / ops);
    }
  }
  const medians = samples.map((s) => s.sort((x, y) => x - y)[Math.floor(s.length / 2)] as number);
  const send = medians[0] ?? 1;
  console.log(
    formatTable(
      `One state change of the breaker machine (CLOSED FAILURE; median of ${ROUNDS} rounds × ${ops.toLocaleString('en')})`,
      ['how', 'ns/event', '× actor.send'],
      cases.map((c, i) => [c.name, (medians[i] ?? 0).toFixed(0), ((medians[i] ?? 0) / send).toFixed(2)]),
    ),
  );
  actor.stop();
}

async function heapGrowth(): Promise<void> {
  const calls = 1_000_000;
  // A manual clock moved 1 ms every 20 calls lets OPEN periods end, so most calls really run.
  const clock = createManualClock();
  const breaker = createCircuitBreaker({ name: 'soak', resetTimeoutMs: 1, clock });
  let seed = 42;
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  for (let i = 0; i < 10_000; i++) await breaker.execute(random() < 0.3 ? failing : value).catch(() => {});
  await gc();
  const before = heapUsed();
  for (let i = 0; i < calls; i++) {
    await breaker.execute(random() < 0.3 ? failing : value).catch(() => {});
    if (i % 20 === 0) await clock.advance(1);
  }
  await gc();
  const growth = heapUsed() - before;
  const m = breaker.metrics();
  console.log(
    formatTable(
      `Heap growth over ${calls.toLocaleString('en')} calls with random outcomes (30 % failures), after GC`,
      ['growth bytes', 'growth KB', 'successes', 'failures', 'rejected', 'trips'],
      [
        [
          growth.toFixed(0),
          (growth / 1024).toFixed(1),
          m.totalSuccesses,
          m.totalFailures,
          m.rejectedCalls,
          m.tripsCount,
        ].map(String),
      ],
    ),
  );
  breaker.stop();
}

export async function runBreakerBench(): Promise<void> {
  await throughput();
  await eventCost();
  await heapPerBreaker();
  await runBreakerHeapBench();
  await heapGrowth();
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runBreakerBench();
}
