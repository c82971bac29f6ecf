/** Browser-safe: turning breakers into `PersistedBreaker`s and saving them when they change. */
import { type Clock, systemClock } from '../clock.js';
import type { CircuitBreaker } from '../reliability/breaker.js';
import type { BreakerStore, PersistedBreaker } from './types.js';

/** The breaker's state with absolute deadlines, ready for `createCircuitBreaker({ restore })`. */
export function snapshotBreaker(breaker: CircuitBreaker, clock: Clock = systemClock): PersistedBreaker {
  return { name: breaker.name, ...breaker.checkpoint(), savedAt: clock.now() };
}

/**
 * Saves each breaker to `store` on every transition (`breaker.onTransition`): transitions made in the
 * same tick are written together, once (a microtask later). Returns a function that stops following
 * them and saves every breaker once more (so CLOSED failure counts are kept on an orderly stop).
 */
export function persistBreakers(
  store: BreakerStore,
  breakers: readonly CircuitBreaker[],
  options: { clock?: Clock; onError?: (error: unknown) => void } = {},
): () => void {
  const clock = options.clock ?? systemClock;
  const dirty = new Set<CircuitBreaker>();
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    const changed = [...dirty];
    dirty.clear();
    if (changed.length === 0) return;
    try {
      store.save(changed.map((breaker) => snapshotBreaker(breaker, clock)));
    } catch (error) {
      options.onError?.(error);
    }
  };
  const unsubscribes = breakers.map((breaker) =>
    breaker.onTransition(() => {
      dirty.add(breaker);
      if (!scheduled) {
        scheduled = true;
        queueMicrotask(flush);
      }
    }),
  );
  return () => {
    for (const unsubscribe of unsubscribes) unsubscribe();
    for (const breaker of breakers) dirty.add(breaker);
    flush();
  };
}
