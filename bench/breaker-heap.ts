/*
 * Where the heap of one breaker goes (prototype measurements for the issue "≤ 2 KB per breaker"):
 * the full `createCircuitBreaker()`, then its parts built alone — the XState actor (started, not
 * started), its snapshot, the wrapper's own fields — and a sketch without a per-breaker actor (the
 * machine's pure `transition()` on a stored snapshot). 10 000 of each kept alive, after GC.
 * Alone: `npx tsx --expose-gc bench/breaker-heap.ts`.
 */
import { pathToFileURL } from 'node:url';
import { createActor, getInitialSnapshot, setup, transition } from 'xstate';
import { breakerMachine } from '../machines/breaker.machine.js';
import { systemClock } from '../src/clock.js';
import { createCircuitBreaker } from '../src/reliability/breaker.js';
import { formatTable, gc, heapUsed } from './table.js';

const COUNT = 10_000;
const input = {
  failureThreshold: 5,
  resetTimeoutMs: 30_000,
  halfOpenMaxCalls: 3,
  successThreshold: 2,
  resetJitter: 0,
};

async function bytesPer(create: () => unknown, dispose: (x: unknown) => void = () => {}): Promise<number> {
  await gc();
  const before = heapUsed();
  const kept: unknown[] = [];
  for (let i = 0; i < COUNT; i++) kept.push(create());
  await gc();
  const bytes = (heapUsed() - before) / COUNT;
  for (const item of kept) dispose(item);
  kept.length = 0;
  await gc();
  return bytes;
}

/** The wrapper's own per-instance fields, without any actor (what `Breaker` allocates besides it). */
function wrapperFields() {
  const self = {
    name: 'default',
    clock: systemClock,
    current: null as unknown,
    period: 0,
    stopped: false,
    totals: [0, 0, 0, 0, 0],
    lastOpenDurationMs: null,
    openedAt: 0,
    enteredAt: 0,
    timeInStateMs: { CLOSED: 0, OPEN: 0, HALF_OPEN: 0 },
    history: [] as unknown[],
    closedCallSucceeded: (v: unknown) => v,
    closedCallFailed: (e: unknown) => {
      throw e;
    },
  };
  const ref = new WeakRef(self);
  return { self, ref, observer: (s: unknown) => ref.deref() && s };
}

/** A breaker without an actor: the machine's snapshot advanced by the pure `transition()`. */
function snapshotOnly() {
  let snapshot = getInitialSnapshot(breakerMachine, input);
  return {
    get state() {
      return snapshot.value;
    },
    fail() {
      [snapshot] = transition(breakerMachine, snapshot, { type: 'FAILURE' });
    },
  };
}

export async function runBreakerHeapBench(): Promise<void> {
  // One idle parent, as breaker.ts does (one per clock): its children share its actor system.
  const host = createActor(setup({}).createMachine({ id: 'host' })).start();
  const registry = new FinalizationRegistry<object>(() => {});
  const rows: Array<[string, number]> = [
    [
      'createCircuitBreaker() (today: actor in the shared system + wrapper)',
      await bytesPer(
        () => createCircuitBreaker(),
        (b) => (b as ReturnType<typeof createCircuitBreaker>).stop(),
      ),
    ],
    [
      'createActor(breakerMachine).start(), own system',
      await bytesPer(
        () => createActor(breakerMachine, { input }).start(),
        (a) => (a as { stop(): void }).stop(),
      ),
    ],
    [
      'createActor(breakerMachine), not started',
      await bytesPer(() => createActor(breakerMachine, { input })),
    ],
    [
      'child actor of one shared host, started',
      // Children are stopped by their parent: `host.stop()` at the end stops them all.
      await bytesPer(() => createActor(breakerMachine, { input, parent: host }).start()),
    ],
    [
      'child actor of one shared host, started + subscribe(fn)',
      await bytesPer(() => {
        const actor = createActor(breakerMachine, { input, parent: host });
        actor.subscribe(() => {});
        return actor.start();
      }),
    ],
    [
      'WeakRef + FinalizationRegistry.register (per breaker today)',
      await bytesPer(() => {
        const target = {};
        registry.register(target, {}, target);
        return [target, new WeakRef(target)];
      }),
    ],
    [
      'getInitialSnapshot(breakerMachine) (the snapshot alone)',
      await bytesPer(() => getInitialSnapshot(breakerMachine, input)),
    ],
    ['wrapper fields + WeakRef + observer closure, no actor', await bytesPer(wrapperFields)],
    ['sketch: snapshot + pure transition(), no actor', await bytesPer(snapshotOnly)],
    [
      'plain object with the 4 numbers a consecutive breaker needs',
      await bytesPer(() => ({ state: 'CLOSED', failures: 0, trials: 0, openedAt: 0 })),
    ],
  ];
  host.stop();
  console.log(
    formatTable(
      `Heap per breaker, by part (${COUNT.toLocaleString('en')} kept alive, after GC)`,
      ['what', 'bytes', 'KB'],
      rows.map(([name, bytes]) => [name, bytes.toFixed(0), (bytes / 1024).toFixed(2)]),
    ),
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runBreakerHeapBench();
  process.exit(0);
}
