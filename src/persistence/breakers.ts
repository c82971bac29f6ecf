/** Browser-safe: turning breakers into `PersistedBreaker`s and saving them when they change. */
import { type Clock, systemClock } from '../clock.js';
import type { CircuitBreaker } from '../reliability/breaker.js';
import type { BreakerStore, PersistedBreaker } from './types.js';

/** The breaker's state with absolute deadlines, ready for `createCircuitBreaker({ restore })`. */
export function snapshotBreaker(breaker: CircuitBreaker, clock: Clock = systemClock): PersistedBreaker {
  return { name: breaker.name, ...breaker.checkpoint(), savedAt: clock.now() };
}

/**
 * Saves each breaker to `store` whenever its state or failure count changes: changes made in the same
 * tick are written together, once (a microtask later). Returns a function that stops following them.
 */
export function persistBreakers(
  store: BreakerStore,
  breakers: readonly CircuitBreaker[],
  options: { clock?: Clock; onError?: (error: unknown) => void } = {},
): () => void {
  const clock = options.clock ?? systemClock;
  const keys = new Map<CircuitBreaker, string>();
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
  const subscriptions = breakers.map((breaker) => {
    keys.set(breaker, keyOf(breaker));
    return breaker.actor.subscribe(() => {
      const key = keyOf(breaker);
      if (key === keys.get(breaker)) return;
      keys.set(breaker, key);
      dirty.add(breaker);
      if (!scheduled) {
        scheduled = true;
        queueMicrotask(flush);
      }
    });
  });
  return () => {
    for (const subscription of subscriptions) subscription.unsubscribe();
    flush();
  };
}

function keyOf(breaker: CircuitBreaker): string {
  const snapshot = breaker.actor.getSnapshot();
  return `${snapshot.value}:${snapshot.context.consecutiveFailures}`;
}
