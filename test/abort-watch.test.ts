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
  const watchB = watchAbort(controller.signal, b);
  watchAbort(controller.signal, c);
  unwatchAbort(controller.signal, watchB);
  controller.abort('why');
  controller.abort('again');
  expect(calls).toEqual(['a why', 'c']);
});

test('many calls watching one long-lived signal leave nothing behind', () => {
  const controller = new AbortController();
  const events = process.getBuiltinModule('node:events') as typeof import('node:events');
  for (let i = 0; i < 1_000; i++) {
    unwatchAbort(
      controller.signal,
      watchAbort(controller.signal, () => {}),
    );
  }
  expect(events.getEventListeners(controller.signal, 'abort')).toHaveLength(1);
  let late = 0;
  watchAbort(controller.signal, () => late++);
  controller.abort();
  expect(late).toBe(1);
  expect(events.getEventListeners(controller.signal, 'abort')).toHaveLength(0);
});

test('a watcher unwatched by an earlier one while the signal aborts does not run; unwatching after is a no-op', () => {
  const controller = new AbortController();
  const calls: string[] = [];
  const watchC = { current: undefined as ReturnType<typeof watchAbort> | undefined };
  const watchA = watchAbort(controller.signal, () => {
    calls.push('a');
    if (watchC.current) unwatchAbort(controller.signal, watchC.current);
  });
  watchAbort(controller.signal, () => calls.push('b'));
  watchC.current = watchAbort(controller.signal, () => calls.push('c'));
  watchAbort(controller.signal, () => calls.push('d'));
  controller.abort();
  unwatchAbort(controller.signal, watchA);
  expect(calls).toEqual(['a', 'b', 'd']);
});
