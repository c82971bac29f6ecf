/*
 * Retry-storm tables (simulated time, see bench/storm.ts), every strategy side by side in one run:
 * (A) a backend failing 50 % at random, (B) an overloaded backend (capacity 500 calls/s, demand
 * 1 000 calls/s, failing what it cannot serve), (C) a dead backend, and (D) 100 bridges against a dead
 * backend (the spread of HALF_OPEN probes). Alone: `npx tsx bench/storm-report.ts`.
 */
import { pathToFileURL } from 'node:url';
import { BACKEND_THROTTLE_DEFAULTS } from '../src/backends/backend-throttle.js';
import { FAILURE_RATE_RULE } from '../src/backends/kinds/breaker-rules.js';
import { builtInKinds } from '../src/backends/kinds/index.js';
import { nodeKinds } from '../src/backends/node-kinds.js';
import type { BreakerRuleOptions } from '../src/reliability/breaker-rule-options.js';
import { runStorm, type StormOptions, type StormResult, type StormStrategy } from './storm.js';
import { maxInWindow, perSlot } from './storm-sim.js';
import { formatTable } from './table.js';

/** Simulated seconds of calling per run (100 callers × 10 calls/s). */
const SECONDS = 15;
const CAPACITY = 500;
/** Scenario D must outlast the breakers' 30 s reset timeout to show when their probes arrive. */
const HERD_SECONDS = 40;

interface Row {
  label: string;
  strategy: StormStrategy;
  throttleK?: number;
  holdClosed?: boolean;
  rule?: StormOptions['rule'];
}

/** The failure-rate rule with a 20-call window (10 calls at least). */
const FAILURE_RATE_20 = {
  kind: 'failureRate',
  failureRateThreshold: 0.5,
  minimumCalls: 10,
  window: { kind: 'count', size: 20 },
} as const;
/** The rule the bridge gives `http` and `mcp` backends (src/backends/kinds/breaker-rules.ts). */
const CHOSEN_RULE = FAILURE_RATE_RULE;
const CHOSEN_K = BACKEND_THROTTLE_DEFAULTS.k;

const ROWS: Row[] = [
  { label: 'naive retry (3 retries, no breaker, no budget)', strategy: 'naive' },
  { label: 'consecutive breaker 5 + budget 10 %', strategy: 'parts' },
  { label: 'consecutive breaker 5 + budget + throttle k = 2', strategy: 'parts-throttle', throttleK: 2 },
  {
    label: `consecutive breaker 5 + budget + throttle k = ${CHOSEN_K}`,
    strategy: 'parts-throttle',
    throttleK: CHOSEN_K,
  },
  { label: 'failure rate 50 % of 20 calls + budget', strategy: 'parts', rule: FAILURE_RATE_20 },
  {
    label: `failure rate 50 % of 20 calls + budget + throttle k = ${CHOSEN_K}`,
    strategy: 'parts-throttle',
    throttleK: CHOSEN_K,
    rule: FAILURE_RATE_20,
  },
  { label: 'failure rate 50 % of 100 calls + budget', strategy: 'parts', rule: CHOSEN_RULE },
  {
    label: `failure rate 50 % of 100 calls + budget + throttle k = ${CHOSEN_K}`,
    strategy: 'parts-throttle',
    throttleK: CHOSEN_K,
    rule: CHOSEN_RULE,
  },
  {
    label: 'failure rate 50 % of 100 calls + budget + throttle k = 2',
    strategy: 'parts-throttle',
    throttleK: 2,
    rule: CHOSEN_RULE,
  },
  ...[2, 1.5, 1.1, CHOSEN_K].map((throttleK) => ({
    label: `budget + throttle k = ${throttleK}, breaker held CLOSED`,
    strategy: 'parts-throttle' as const,
    throttleK,
    holdClosed: true,
  })),
  { label: 'cockatiel 3 wrap(retry 3, consecutive breaker 5)', strategy: 'cockatiel' },
  {
    label: `bridge LLM path, defaults (http: failure rate 50 % of 100 calls, throttle k = ${CHOSEN_K})`,
    strategy: 'ours',
  },
];

const ratio = (a: number, b: number) => (b === 0 ? '–' : `${(a / b).toFixed(3)}×`);
const perSecond = (n: number, ms: number) => (n / (ms / 1000)).toFixed(0);
const run = (row: Row, scenario: Partial<StormOptions>): Promise<StormResult> =>
  runStorm({
    strategy: row.strategy,
    failureRate: 0,
    seconds: SECONDS,
    ...(row.throttleK === undefined ? {} : { throttleK: row.throttleK }),
    ...(row.holdClosed ? { holdClosed: true } : {}),
    ...(row.rule ? { rule: row.rule } : {}),
    ...scenario,
  });

/** The bridge path's throttle refusals reach the caller as CIRCUIT_OPEN, like the breaker's: not counted apart. */
const throttledCell = (r: StormResult) => (r.strategy === 'ours' ? '–' : String(r.throttled));

function commonCells(r: StormResult): string[] {
  const tool = r.backendCalls - r.probeCalls;
  return [
    String(r.logicalCalls),
    perSecond(r.succeeded, r.durationMs),
    `${((100 * r.succeeded) / r.logicalCalls).toFixed(1)} %`,
    perSecond(tool, r.durationMs),
    ratio(tool, r.logicalCalls),
    String(r.retries),
    throttledCell(r),
    String(r.opens),
  ];
}
const COMMON = [
  'logical calls',
  'useful calls/s',
  'succeeded',
  'backend calls/s',
  'backend ÷ logical',
  'retries started',
  'throttled locally',
  'breaker opens',
];

async function scenarioA(): Promise<void> {
  const rows: string[][] = [];
  for (const row of ROWS) rows.push([row.label, ...commonCells(await run(row, { failureRate: 0.5 }))]);
  const bridge = await run({ label: '', strategy: 'ours-closed' }, { failureRate: 0.5 });
  rows.push(['bridge LLM path, breaker held CLOSED (budget alone)', ...commonCells(bridge)]);
  console.log(
    formatTable(
      `A: backend failing 50 % at random — 100 callers × 10 calls/s × ${SECONDS} s (simulated)`,
      ['strategy', ...COMMON],
      rows,
    ),
  );
}

/** First second from which every later second's load is ≤ `limit` calls ('never' if none). */
function settledBy(slots: number[], limit: number): string {
  let from = slots.length;
  for (let i = slots.length - 1; i >= 0 && (slots[i] as number) <= limit; i--) from = i;
  return from === slots.length ? 'never' : `${from} s`;
}

async function scenarioB(): Promise<void> {
  const rows: string[][] = [];
  let bridge = { load: Number.NaN, served: Number.NaN };
  const seconds = [0, 1, 2, 5, 9];
  for (const row of ROWS) {
    const r = await run(row, { capacityPerSecond: CAPACITY });
    const slots = perSlot(r.times, 1000, r.durationMs);
    const late = slots.slice(10);
    const steady = late.reduce((a, b) => a + b, 0) / late.length;
    rows.push([
      row.label,
      perSecond(r.succeeded, r.durationMs),
      `${((100 * r.succeeded) / r.logicalCalls).toFixed(1)} %`,
      ...seconds.map((s) => ((slots[s] as number) / CAPACITY).toFixed(2)),
      (steady / CAPACITY).toFixed(2),
      settledBy(slots, 1.1 * CAPACITY),
      throttledCell(r),
      String(r.opens),
    ]);
    if (row.strategy === 'ours')
      bridge = { load: steady / CAPACITY, served: r.succeeded / (r.durationMs / 1000) };
  }
  console.log(
    formatTable(
      `B: overloaded backend — capacity ${CAPACITY} calls/s, demand 1 000 calls/s, calls beyond capacity fail; load received ÷ capacity per simulated second`,
      [
        'strategy',
        'useful calls/s',
        'succeeded',
        ...seconds.map((s) => `load ${s}–${s + 1} s`),
        `mean load 10–${SECONDS} s`,
        'load ≤ 1.1× capacity from',
        'throttled locally',
        'breaker opens',
      ],
      rows,
    ),
  );
  const yes = (ok: boolean) => (ok ? 'yes' : 'no');
  console.log(
    `Throttle target, bridge defaults (k = ${CHOSEN_K}): mean load 10–${SECONDS} s ${bridge.load.toFixed(2)}× capacity ` +
      `(≤ 1.1×: ${yes(bridge.load <= 1.1)}), ${bridge.served.toFixed(0)} calls/s served of ${CAPACITY} ` +
      `(≥ 95 %: ${yes(bridge.served >= 0.95 * CAPACITY)}).\n`,
  );
}

/** A rule in words, for the line that shows the defaults chosen. */
function describeRule(rule: BreakerRuleOptions | undefined): string {
  if (!rule || rule.kind === 'consecutive') return 'consecutive';
  const window = rule.window?.kind === 'time' ? `${rule.window.ms} ms` : `${rule.window?.size ?? 20} calls`;
  return `failure rate ${(100 * (rule.failureRateThreshold ?? 0.5)).toFixed(0)} % of the last ${window} (${rule.minimumCalls ?? 10} calls at least)`;
}

function printDefaults(): void {
  const byRule = new Map<string, string[]>();
  for (const kind of [...builtInKinds(), ...nodeKinds()]) {
    const rule = describeRule(kind.defaultBreakerRule);
    byRule.set(rule, [...(byRule.get(rule) ?? []), kind.kind]);
  }
  const lines = [...byRule].map(([rule, kinds]) => `${kinds.join(', ')}: ${rule}`);
  console.log(`Bridge breaker rule per backend kind, chosen from tables A–C: ${lines.join('; ')}.\n`);
}

async function scenarioC(): Promise<void> {
  const rows: string[][] = [];
  for (const row of ROWS) {
    const r = await run(row, { failureRate: 1 });
    const slots = perSlot(r.times, 1000, r.durationMs);
    rows.push([
      row.label,
      String(r.logicalCalls),
      String(r.backendCalls),
      String(slots[0]),
      (slots.slice(1).reduce((a, b) => a + b, 0) / (slots.length - 1)).toFixed(1),
      throttledCell(r),
      String(r.opens),
    ]);
  }
  console.log(
    formatTable(
      `C: dead backend — one client (100 callers × 10 calls/s × ${SECONDS} s)`,
      [
        'strategy',
        'logical calls',
        'backend calls',
        'in the first second',
        `per second, 1–${SECONDS} s`,
        'throttled locally',
        'breaker opens',
      ],
      rows,
    ),
  );
}

async function scenarioD(): Promise<void> {
  const rows: string[][] = [];
  const labels: Array<[StormStrategy, string]> = [
    ['ours', 'ours (bridge LLM path defaults)'],
    ['cockatiel', 'cockatiel wrap(retry 3, breaker 5)'],
  ];
  for (const [strategy, label] of labels) {
    const r = await runStorm({ strategy, failureRate: 1, perCaller: true, seconds: HERD_SECONDS });
    const after = r.afterTrip;
    rows.push([
      label,
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
      `D: dead backend — 100 bridges (one breaker each) × 1 caller × 10 calls/s × ${HERD_SECONDS} s (past the 30 s reset timeout; naive: see C)`,
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
      rows,
    ),
  );
}

export async function runStormBench(): Promise<void> {
  await scenarioA();
  await scenarioB();
  await scenarioC();
  printDefaults();
  await scenarioD();
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runStormBench();
  process.exit(0);
}
