/*
 * Watching a signal for its abort without an EventTarget listener per watcher: one `abort` listener
 * per signal, installed by its first watcher and kept until the signal aborts, calls the watchers in
 * the order they came. Adding and removing a watcher is a Set operation; an `addEventListener` +
 * `removeEventListener` pair costs ~1 µs on Node 20. For long-lived signals watched once per call
 * (a backend's stop signal under every retry); a signal watched once gains nothing.
 */

const watchers = new WeakMap<AbortSignal, Set<() => void>>();

/** Calls `onAbort` once when `signal` aborts, unless {@link unwatchAbort} comes first. */
export function watchAbort(signal: AbortSignal, onAbort: () => void): void {
  let set = watchers.get(signal);
  if (!set) {
    const created = new Set<() => void>();
    set = created;
    watchers.set(signal, created);
    signal.addEventListener(
      'abort',
      () => {
        watchers.delete(signal);
        for (const watcher of created) watcher();
        created.clear();
      },
      { once: true },
    );
  }
  set.add(onAbort);
}

/** Stops watching: `onAbort` will not be called. */
export function unwatchAbort(signal: AbortSignal, onAbort: () => void): void {
  watchers.get(signal)?.delete(onAbort);
}
