/**
 * The inspection relay: an XState `inspect` observer that turns the inspection events of every actor
 * of a bridge (orchestrator, backends, breakers, retries) into `@statelyai/inspect`-format messages,
 * JSON-safe and redacted, batched every `flushIntervalMs`, plus health and metrics messages once
 * attached to the bridge. It keeps the current actors and their latest snapshots for clients that
 * connect late (`replay()`).
 *
 * Browser-safe (no Node import), so the page can also inspect an in-page bridge with it.
 *
 * Why the relay assigns its own session ids: every breaker, backend and retry actor with an inspector
 * runs in an actor system of its own, and XState numbers actors per system (`x:0`, `x:1`, …), so
 * their `sessionId`s repeat. The relay gives each actor reference a unique id (`a1`, `a2`, …).
 */
import type { AnyActorRef, InspectionEvent, Observer } from 'xstate';
import type { Bridge } from '../bridge/types.js';
import type {
  ActorMessage,
  BreakerMetricsData,
  EventMessage,
  HealthMessage,
  HealthReportData,
  InspectedSnapshot,
  InspectorMessage,
  MetricsMessage,
  RetryMetricsData,
  SnapshotMessage,
} from './protocol.js';
import { STATELY_VERSION } from './protocol.js';
import { toJsonSafe } from './redact.js';
import { eventObject, healthKey, machineDefinition, pickSnapshot } from './relay-snapshot.js';
import type {
  ActorEntry,
  InspectionRelay,
  InspectionRelayOptions,
  Label,
  PendingRecord,
  RelayStats,
} from './relay-types.js';

export { machineDefinition } from './relay-snapshot.js';
export type { InspectionRelay, InspectionRelayOptions, RelayStats } from './relay-types.js';

const bridges = new WeakMap<Bridge, InspectionRelay>();

/** The relay a bridge was attached to, if any. */
export function relayOf(bridge: Bridge): InspectionRelay | undefined {
  return bridges.get(bridge);
}

/** Creates a relay. Nothing is sent anywhere until someone subscribes (the server does). */
export function createInspectionRelay(options: InspectionRelayOptions = {}): InspectionRelay {
  const flushIntervalMs = options.flushIntervalMs ?? 50;
  const maxPending = options.maxPending ?? 10_000;
  const sampleIntervalMs = options.sampleIntervalMs ?? 1_000;
  const maxFinished = options.maxFinishedActors ?? 20;
  const limits = options.limits ?? {};
  const now = options.now ?? Date.now;

  const ids = new WeakMap<AnyActorRef, string>();
  const labels = new WeakMap<AnyActorRef, Label>();
  let nextId = 1;
  const idOf = (ref: AnyActorRef): string => {
    let id = ids.get(ref);
    if (!id) {
      id = `a${nextId++}`;
      ids.set(ref, id);
    }
    return id;
  };
  const rootOf = (ref: AnyActorRef): AnyActorRef => {
    let current = ref;
    for (let guard = 0; guard < 100; guard++) {
      const parent = (current as { _parent?: AnyActorRef })._parent;
      if (!parent) break;
      current = parent;
    }
    return current;
  };
  const safe = (value: unknown) => toJsonSafe(value, limits, (ref) => ids.get(ref as AnyActorRef) ?? 'actor');

  const actors = new Map<string, ActorEntry>();
  const finishedOrder: string[] = [];
  let pending: PendingRecord[] = [];
  let droppedSinceFlush = 0;
  const listeners = new Set<(batch: InspectorMessage[]) => void>();
  const stats: RelayStats = { received: 0, sent: 0, dropped: 0 };
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let lastHealth: HealthMessage | undefined;
  let lastMetrics: MetricsMessage | undefined;
  const detachers = new Set<() => void>();

  const schedule = () => {
    if (timer !== undefined || stopped) return;
    timer = setTimeout(() => {
      timer = undefined;
      flush();
    }, flushIntervalMs);
    (timer as { unref?: () => void }).unref?.();
  };

  const push = (record: PendingRecord) => {
    if (stopped) return;
    pending.push(record);
    if (pending.length > maxPending) {
      // Overload: drop the oldest plain events (snapshots and actors carry the state; keep them).
      const index = pending.findIndex((r) => r.kind === 'event');
      if (index >= 0) pending.splice(index, 1);
      else pending.shift();
      droppedSinceFlush++;
      stats.dropped++;
    }
    schedule();
  };

  const labelOf = (ref: AnyActorRef): Label => {
    const given = labels.get(ref);
    if (given) return given;
    const logic = (ref as { logic?: { id?: string; config?: { id?: string } } }).logic;
    const machineId = logic?.id ?? logic?.config?.id;
    const systemId = (ref as { systemId?: string }).systemId;
    if (machineId === 'retry') {
      const context = (ref.getSnapshot() as { context?: { operation?: string } } | undefined)?.context;
      return { name: `retry:${context?.operation ?? 'default'}`, role: 'retry' };
    }
    const parent = (ref as { _parent?: AnyActorRef })._parent;
    const parentLabel = parent ? labels.get(parent) : undefined;
    const own = systemId ?? (ref.id && !/^x:\d+$/.test(ref.id) ? ref.id : (machineId ?? idOf(ref)));
    return { name: parentLabel ? `${parentLabel.name}/${own}` : own, role: 'actor' };
  };

  const actorMessage = (ref: AnyActorRef, at: number): ActorMessage => {
    const label = labelOf(ref);
    const parent = (ref as { _parent?: AnyActorRef })._parent;
    let snapshot: unknown;
    try {
      snapshot = ref.getSnapshot();
    } catch {
      snapshot = undefined;
    }
    return {
      type: '@xstate.actor',
      name: label.name,
      sessionId: idOf(ref),
      parentId: parent ? idOf(parent) : undefined,
      rootId: idOf(rootOf(ref)),
      systemId: (ref as { systemId?: string }).systemId,
      role: label.role,
      ...(label.backend ? { backend: label.backend } : {}),
      definition: machineDefinition((ref as { logic?: unknown }).logic),
      snapshot: safe(pickSnapshot(snapshot)) as InspectedSnapshot,
      createdAt: String(at),
      id: null,
      _version: STATELY_VERSION,
    };
  };

  const remember = (message: InspectorMessage) => {
    if (message.type === '@xstate.actor') {
      const existing = actors.get(message.sessionId);
      if (existing) existing.actor = message;
      else actors.set(message.sessionId, { actor: message, snapshot: undefined, finished: false });
    } else if (message.type === '@xstate.snapshot') {
      const entry = actors.get(message.sessionId);
      if (!entry) return;
      entry.snapshot = message;
      const done = message.snapshot.status !== undefined && message.snapshot.status !== 'active';
      if (done && !entry.finished) {
        entry.finished = true;
        finishedOrder.push(message.sessionId);
        while (finishedOrder.length > maxFinished) {
          const old = finishedOrder.shift();
          if (old) actors.delete(old);
        }
      }
    } else if (message.type === 'health') {
      lastHealth = message;
    } else if (message.type === 'metrics') {
      lastMetrics = message;
    }
  };

  const convert = (record: PendingRecord): InspectorMessage => {
    switch (record.kind) {
      case 'message':
        return record.message;
      case 'actor':
        return actorMessage(record.ref, record.at);
      case 'event': {
        const message: EventMessage = {
          type: '@xstate.event',
          sessionId: idOf(record.ref),
          sourceId: record.source ? idOf(record.source) : undefined,
          rootId: idOf(rootOf(record.ref)),
          event: safe(eventObject(record.event)) as EventMessage['event'],
          createdAt: String(record.at),
          id: null,
          _version: STATELY_VERSION,
        };
        return message;
      }
      case 'snapshot': {
        const message: SnapshotMessage = {
          type: '@xstate.snapshot',
          sessionId: idOf(record.ref),
          rootId: idOf(rootOf(record.ref)),
          event: safe(eventObject(record.event)) as SnapshotMessage['event'],
          snapshot: safe(pickSnapshot(record.snapshot)) as InspectedSnapshot,
          createdAt: String(record.at),
          id: null,
          _version: STATELY_VERSION,
        };
        return message;
      }
    }
  };

  function flush() {
    if (timer !== undefined) {
      clearTimeout(timer);
      timer = undefined;
    }
    if (pending.length === 0 && droppedSinceFlush === 0) return;
    const records = pending;
    pending = [];
    const batch: InspectorMessage[] = [];
    if (droppedSinceFlush > 0) {
      batch.push({ type: 'dropped', createdAt: String(now()), count: droppedSinceFlush });
      droppedSinceFlush = 0;
    }
    for (const record of records) {
      let message: InspectorMessage;
      try {
        message = convert(record);
      } catch {
        continue;
      }
      remember(message);
      batch.push(message);
    }
    if (batch.length === 0) return;
    for (const listener of [...listeners]) {
      try {
        listener(batch);
        stats.sent += batch.length;
      } catch {
        // A failing subscriber must not stop the others.
      }
    }
  }

  const inspect: Observer<InspectionEvent> = {
    next(event) {
      stats.received++;
      const at = now();
      switch (event.type) {
        case '@xstate.actor':
          push({ kind: 'actor', ref: event.actorRef as AnyActorRef, at });
          break;
        case '@xstate.event':
          push({
            kind: 'event',
            ref: event.actorRef as AnyActorRef,
            source: event.sourceRef as AnyActorRef | undefined,
            event: event.event,
            at,
          });
          break;
        case '@xstate.snapshot':
          push({
            kind: 'snapshot',
            ref: event.actorRef as AnyActorRef,
            event: event.event,
            snapshot: event.snapshot,
            at,
          });
          break;
        default:
          break;
      }
    },
    error() {},
    complete() {},
  };

  const healthMessage = (report: unknown, sample: boolean): HealthMessage => ({
    type: 'health',
    createdAt: String(now()),
    ...(sample ? { sample: true } : {}),
    report: safe(report) as HealthReportData,
  });

  const relay: InspectionRelay = {
    inspect,
    stats,
    attach(bridge) {
      bridges.set(bridge, relay);
      labels.set(bridge.actor, { name: 'bridge', role: 'bridge' });
      // Names the backends' actors (again after a config reload added some); actors already
      // announced under a default name are announced again under their own.
      const labelBackends = (named: AnyActorRef[] = []) => {
        for (const name of bridge.backendNames()) {
          const backend = bridge.backend(name);
          if (!backend || labels.get(backend.actor)?.name === name) continue;
          labels.set(backend.actor, { name, role: 'backend', backend: name });
          labels.set(backend.breaker.actor, { name: `${name}.breaker`, role: 'breaker', backend: name });
          named.push(backend.actor, backend.breaker.actor);
        }
        for (const ref of named) {
          const id = ids.get(ref);
          if (id && actors.has(id)) push({ kind: 'actor', ref, at: now() });
        }
      };
      labelBackends([bridge.actor]);

      let lastKey = '';
      const sendHealth = (report: unknown, sample: boolean) => {
        const message = healthMessage(report, sample);
        const key = healthKey(message.report);
        if (sample && key === lastKey) return;
        lastKey = key;
        push({ kind: 'message', message });
      };
      let lastMetricsKey = '';
      const sendMetrics = () => {
        const breakers: Record<string, BreakerMetricsData> = {};
        for (const name of bridge.backendNames()) {
          const backend = bridge.backend(name);
          if (backend) breakers[name] = backend.breaker.metrics();
        }
        const message: MetricsMessage = {
          type: 'metrics',
          createdAt: String(now()),
          breakers: safe(breakers) as Record<string, BreakerMetricsData>,
          retries: safe(bridge.retryMetrics.snapshot()) as RetryMetricsData,
        };
        const key = JSON.stringify([message.breakers, message.retries], (k, v) =>
          k === 'timeInStateMs' ? undefined : v,
        );
        if (key === lastMetricsKey) return;
        lastMetricsKey = key;
        push({ kind: 'message', message });
      };
      sendHealth(bridge.health(), false);
      sendMetrics();
      const unsubscribe = bridge.onHealthChange((report) => {
        labelBackends();
        sendHealth(report, false);
        sendMetrics();
      });
      const sampler = setInterval(() => {
        try {
          sendHealth(bridge.health(), true);
          sendMetrics();
        } catch {
          // The bridge was stopped: nothing to sample.
        }
      }, sampleIntervalMs);
      (sampler as { unref?: () => void }).unref?.();
      const detach = () => {
        unsubscribe();
        clearInterval(sampler);
        detachers.delete(detach);
      };
      detachers.add(detach);
      return detach;
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    replay() {
      flush();
      const out: InspectorMessage[] = [];
      for (const entry of actors.values()) out.push(entry.actor);
      for (const entry of actors.values()) if (entry.snapshot) out.push(entry.snapshot);
      if (lastHealth) out.push(lastHealth);
      if (lastMetrics) out.push(lastMetrics);
      return out;
    },
    flush,
    stop() {
      flush();
      stopped = true;
      for (const detach of [...detachers]) detach();
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      listeners.clear();
    },
  };
  return relay;
}
