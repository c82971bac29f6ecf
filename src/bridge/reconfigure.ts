/*
 * Hot reload of the bridge's backends: `bridge.reconfigure(config)` compares the new `backends`
 * (validated and resolved exactly as `createBridge` does) with the running ones by name, then stops
 * the removed ones, starts the added ones and restarts (stop, then create again) those whose
 * validated settings changed. Backends whose settings did not change keep running untouched: their
 * connections, breakers and in-flight calls are not disturbed. An invalid config throws
 * `ConfigError` before anything changes.
 */
import type { Backend } from '../backends/types.js';
import type { ResolvedBackend } from './backends.js';
import type { ReconfigureResult } from './types.js';

export type { ReconfigureResult } from './types.js';

/** JSON with object keys sorted, so that reordered keys in a file are not a change. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(
          Object.entries(inner as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)),
        )
      : inner,
  );
}

/** Whether two resolved entries differ in kind, criticality or any setting. */
export function backendChanged(before: ResolvedBackend, after: ResolvedBackend): boolean {
  return (
    before.kind !== after.kind ||
    before.critical !== after.critical ||
    canonical(before.config) !== canonical(after.config)
  );
}

/** The plan: which running backends to remove, which entries to add, which to restart. */
export function planReconfigure(
  running: ReadonlyMap<string, ResolvedBackend>,
  next: readonly ResolvedBackend[],
): ReconfigureResult {
  const result: ReconfigureResult = { added: [], removed: [], restarted: [], unchanged: [] };
  const nextNames = new Set(next.map((spec) => spec.name));
  for (const name of running.keys()) if (!nextNames.has(name)) result.removed.push(name);
  for (const spec of next) {
    const before = running.get(spec.name);
    if (!before) result.added.push(spec.name);
    else if (backendChanged(before, spec)) result.restarted.push(spec.name);
    else result.unchanged.push(spec.name);
  }
  return result;
}

/** What applying a plan needs from the bridge. */
export interface BackendSetOps {
  /** Detaches and stops backend `name` (tools, health line, breaker watch), then resolves. */
  remove(name: string): Promise<void>;
  /** Creates, attaches and (when the bridge runs) starts a backend. */
  add(spec: ResolvedBackend): Backend;
}

/** Applies `plan`: removals and restarts' stops first, then additions and restarts' starts. */
export async function applyReconfigure(
  plan: ReconfigureResult,
  next: readonly ResolvedBackend[],
  ops: BackendSetOps,
): Promise<void> {
  await Promise.all([...plan.removed, ...plan.restarted].map((name) => ops.remove(name)));
  const byName = new Map(next.map((spec) => [spec.name, spec]));
  for (const name of [...plan.restarted, ...plan.added]) {
    const spec = byName.get(name);
    if (spec) ops.add(spec);
  }
}
