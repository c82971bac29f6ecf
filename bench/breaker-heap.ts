/*
 * Heap per breaker: ours (with no actor, with its actor read, with an inspector) beside cockatiel 3
 * and 4 and opossum 9 and 10, then where one breaker's heap goes, by part. 10 000 of each kept alive,
 * after GC; the cases are measured in interleaved rounds and the median printed.
 * `BASELINE=<checkout of an earlier commit>` adds that version's breaker to the same rounds.
 * Alone: `npx tsx --expose-gc bench/breaker-heap.ts`.
 */
import { pathToFileURL } from 'node:url';
import { ConsecutiveBreaker, circuitBreaker, handleAll } from 'cockatiel';
import {
  ConsecutiveBreaker as ConsecutiveBreaker4,
  circuitBreaker as circuitBreaker4,
  handleAll as handleAll4,
} from 'cockatiel4';
import Opossum from 'opossum';
import Opossum10 from 'opossum10';
import { createActor, getInitialSnapshot, setup } from 'xstate';
import { breakerMachine } from '../machines/breaker.machine.js';
import { createCircuitBreaker } from '../src/reliability/breaker.js';
import { formatTable, gc, heapUsed } from './table.js';

const COUNT = 10_000;
const ROUNDS = 3;
const input = {
  failureThreshold: 5,
  resetTimeoutMs: 30_000,
  halfOpenMaxCalls: 3,
  successThreshold: 2,
  resetJitter: 0,
};

/** `createCircuitBreaker` of the checkout named by `BASELINE`, if any. */
export const baseline = process.env.BASELINE
  ? (
      (await import(pathToFileURL(`${process.env.BASELINE}/src/reliability/breaker.ts`).href)) as {
        createCircuitBreaker: typeof createCircuitBreaker;
      }
    ).createCircuitBreaker
  : undefined;
export const baselineLabel = process.env.BASELINE_LABEL ?? 'baseline';

interface HeapCase {
  name: string;
  create: () => unknown;
  dispose?: (made: unknown) => void;
}

async function bytesPer({ create, dispose }: HeapCase): Promise<number> {
  await gc();
  const before = heapUsed();
  const kept: unknown[] = [];
  for (let i = 0; i < COUNT; i++) kept.push(create());
  await gc();
  const bytes = (heapUsed() - before) / COUNT;
  if (dispose) for (const item of kept) dispose(item);
  kept.length = 0;
  await gc();
  return bytes;
}

/** Median bytes per instance of each case, the cases interleaved round by round. */
async function medians(cases: HeapCase[]): Promise<number[]> {
  const samples = cases.map(() => [] as number[]);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, c] of cases.entries()) samples[i]?.push(await bytesPer(c));
  }
  return samples.map((s) => s.sort((x, y) => x - y)[Math.floor(s.length / 2)] as number);
}

const stopBreaker = (b: unknown) => (b as ReturnType<typeof createCircuitBreaker>).stop();
const value = async () => 1;

function print(title: string, cases: HeapCase[], bytes: number[]): void {
  console.log(
    formatTable(
      `${title} (${COUNT.toLocaleString('en')} kept alive, after GC, median of ${ROUNDS} interleaved rounds)`,
      ['what', 'bytes', 'KB'],
      cases.map((c, i) => [c.name, (bytes[i] ?? 0).toFixed(0), ((bytes[i] ?? 0) / 1024).toFixed(2)]),
    ),
  );
}

/** Ours beside the peers (and the `BASELINE` checkout). */
export async function heapPerBreaker(): Promise<void> {
  const cases: HeapCase[] = [
    {
      name: 'mcp-lifeline (no actor until `actor` is read)',
      create: () => createCircuitBreaker(),
      dispose: stopBreaker,
    },
    ...(baseline
      ? [{ name: `mcp-lifeline ${baselineLabel}`, create: () => baseline(), dispose: stopBreaker }]
      : []),
    {
      name: 'mcp-lifeline, `actor` read (child of its clock’s shared host)',
      create: () => {
        const breaker = createCircuitBreaker();
        void breaker.actor;
        return breaker;
      },
      dispose: stopBreaker,
    },
    {
      name: 'mcp-lifeline with `inspect` (actor from the start, own system)',
      create: () => createCircuitBreaker({ inspect: () => {} }),
      dispose: stopBreaker,
    },
    {
      name: 'cockatiel 3',
      create: () => circuitBreaker(handleAll, { halfOpenAfter: 30_000, breaker: new ConsecutiveBreaker(5) }),
    },
    {
      name: 'cockatiel 4',
      create: () =>
        circuitBreaker4(handleAll4, { halfOpenAfter: 30_000, breaker: new ConsecutiveBreaker4(5) }),
    },
    {
      name: 'opossum 9',
      create: () => new Opossum(value, { timeout: false }),
      dispose: (b) => (b as Opossum).shutdown(),
    },
    {
      name: 'opossum 10',
      create: () => new Opossum10(value, { timeout: false }),
      dispose: (b) => (b as Opossum).shutdown(),
    },
  ];
  print('Heap per breaker', cases, await medians(cases));
}

/** Where one breaker's heap goes. */
export async function runBreakerHeapBench(): Promise<void> {
  // One idle parent, as breaker-host.ts keeps one per clock: its children share its actor system.
  const host = createActor(setup({}).createMachine({ id: 'host' })).start();
  const registry = new FinalizationRegistry<object>(() => {});
  const cases: HeapCase[] = [
    { name: 'createCircuitBreaker()', create: () => createCircuitBreaker(), dispose: stopBreaker },
    {
      name: 'its snapshot alone (getInitialSnapshot(breakerMachine))',
      create: () => getInitialSnapshot(breakerMachine, input),
    },
    {
      // Children are stopped by their parent: `host.stop()` at the end stops them all.
      name: 'reading `actor` adds: a child actor of the shared host, started + subscribe(fn)',
      create: () => {
        const actor = createActor(breakerMachine, { input, parent: host });
        actor.subscribe(() => {});
        return actor.start();
      },
    },
    {
      name: '… and WeakRef + FinalizationRegistry.register (only with an actor)',
      create: () => {
        const target = {};
        registry.register(target, {}, target);
        return [target, new WeakRef(target)];
      },
    },
    {
      name: '`inspect` instead: createActor(breakerMachine).start(), own system',
      create: () => createActor(breakerMachine, { input }).start(),
      dispose: (a) => (a as { stop(): void }).stop(),
    },
    {
      name: 'floor: a plain object with the 4 numbers a consecutive breaker needs',
      create: () => ({ state: 'CLOSED', failures: 0, trials: 0, openedAt: 0 }),
    },
  ];
  const bytes = await medians(cases);
  host.stop();
  // The wrapper's own fields: the breaker less its snapshot.
  cases.splice(2, 0, { name: 'the wrapper’s own fields (first row less the snapshot)', create: () => null });
  bytes.splice(2, 0, (bytes[0] ?? 0) - (bytes[1] ?? 0));
  print('Heap per breaker, by part', cases, bytes);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await heapPerBreaker();
  await runBreakerHeapBench();
  process.exit(0);
}
