/**
 * The inspector page's store: after a late join the replay brings each actor's latest snapshot in
 * actor order, not time order; the event log must still read in time order (oldest first).
 */
import { describe, expect, it } from 'vitest';
import { Store } from '../inspector/src/store.js';
import type { InspectorMessage } from '../src/inspector/protocol.js';

const actor = (sessionId: string, name: string): InspectorMessage =>
  ({ type: '@xstate.actor', sessionId, name, createdAt: '1' }) as InspectorMessage;
const snapshot = (sessionId: string, at: number, type: string): InspectorMessage =>
  ({
    type: '@xstate.snapshot',
    sessionId,
    createdAt: String(at),
    event: { type },
    snapshot: { status: 'active', value: type },
  }) as unknown as InspectorMessage;

describe('Store event log', () => {
  it('sorts replayed events by time, and keeps live ones after them', () => {
    const store = new Store();
    store.apply({ type: 'hello', protocol: '1', createdAt: '0', replay: true } as InspectorMessage);
    store.apply(actor('a', 'bridge'));
    store.apply(actor('b', 'evolution'));
    store.apply(actor('c', 'lmStudio'));
    // Replay order: per actor, whatever their times.
    store.apply(snapshot('a', 300, 'A'));
    store.apply(snapshot('b', 100, 'B'));
    store.apply(snapshot('c', 200, 'C'));
    store.apply(snapshot('b', 400, 'live'));
    expect(store.log.map((entry) => entry.eventType)).toEqual(['B', 'C', 'A', 'live']);
    expect(store.log.map((entry) => entry.at)).toEqual([100, 200, 300, 400]);
  });

  it('equal times keep their arrival order; a change anywhere in the log bumps logRevision', () => {
    const store = new Store();
    store.apply(actor('a', 'bridge'));
    store.apply(snapshot('a', 500, 'first'));
    store.apply(snapshot('a', 500, 'second'));
    const before = store.logRevision;
    store.apply(snapshot('a', 100, 'older'));
    expect(store.log.map((entry) => entry.eventType)).toEqual(['older', 'first', 'second']);
    expect(store.logRevision).toBeGreaterThan(before);
  });
});
