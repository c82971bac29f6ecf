import v8 from 'node:v8';
import vm from 'node:vm';

/**
 * A full garbage collection function: `globalThis.gc` when Node runs with `--expose-gc`, otherwise
 * one enabled at run time through V8's flags; null when neither works.
 */
export function findGc(): (() => void) | null {
  const global = globalThis as { gc?: () => void };
  if (typeof global.gc === 'function') return global.gc;
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as () => void) : null;
  } catch {
    return null;
  }
}
