/* One abort listener per signal, many watchers: what retry() relies on for its first attempt. */
import { expect, test } from 'vitest';
import { unwatchAbort, watchAbort } from '../src/reliability/abort-watch.js';

test('watchers run once, in the order they came; an unwatched one never runs', () => {
  const controller = new AbortController();
  const calls: string[] = [];
  const a = () => calls.push(`a ${String(controller.signal.reason)}`);
  const b = () => calls.push('b');
  const c = () => calls.push('c');
  watchAbort(controller.signal, a);
  watchAbort(controller.signal, b);
  watchAbort(controller.signal, c);
  unwatchAbort(controller.signal, b);
  controller.abort('why');
  controller.abort('again');
  expect(calls).toEqual(['a why', 'c']);
});

test('many calls watching one long-lived signal leave nothing behind', () => {
  const controller = new AbortController();
  const events = process.getBuiltinModule('node:events') as typeof import('node:events');
  for (let i = 0; i < 1_000; i++) {
    const watcher = () => {};
    watchAbort(controller.signal, watcher);
    unwatchAbort(controller.signal, watcher);
  }
  expect(events.getEventListeners(controller.signal, 'abort')).toHaveLength(1);
  let late = 0;
  watchAbort(controller.signal, () => late++);
  controller.abort();
  expect(late).toBe(1);
  expect(events.getEventListeners(controller.signal, 'abort')).toHaveLength(0);
});
