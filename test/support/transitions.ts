import { getShortestPaths } from '@xstate/graph';
import { expect } from 'vitest';
import type {
  AnyActorLogic,
  AnyEventObject,
  AnyMachineSnapshot,
  AnyStateMachine,
  AnyStateNode,
  AnyTransitionDefinition,
  InspectionEvent,
} from 'xstate';

/** A stable name for one transition of a machine: `<source state id>|<event type>|<index>`. */
export function transitionKey(transition: AnyTransitionDefinition): string {
  const source = transition.source as AnyStateNode;
  const eventType = transition.eventType;
  const candidates: readonly AnyTransitionDefinition[] =
    eventType === '' ? (source.always ?? []) : (source.transitions.get(eventType) ?? []);
  return `${source.id}|${eventType === '' ? 'always' : eventType}|${candidates.indexOf(transition)}`;
}

/** Every transition the machine defines (event, delayed, invoke done/error and eventless). */
function definedTransitions(machine: AnyStateMachine): Set<string> {
  const keys = new Set<string>();
  const visit = (node: AnyStateNode) => {
    for (const candidates of node.transitions.values())
      for (const t of candidates) keys.add(transitionKey(t));
    for (const t of node.always ?? []) keys.add(transitionKey(t));
    for (const child of Object.values(node.states) as AnyStateNode[]) visit(child);
  };
  visit(machine.root);
  return keys;
}

/**
 * `serializeState` for `getShortestPaths` that also names the transitions taken to reach a snapshot,
 * so that a transition leading to an already-seen snapshot still gets its own path.
 */
export function transitionAwareKey(machine: AnyStateMachine) {
  // An event that takes no transition leaves the snapshot where it was: it gets its predecessor's key.
  const keys = new WeakMap<AnyMachineSnapshot, string>();
  return (snapshot: AnyMachineSnapshot, event: AnyEventObject | undefined, previous?: AnyMachineSnapshot) => {
    const base = JSON.stringify({ value: snapshot.value, context: snapshot.context });
    let key = base;
    if (previous && event) {
      const via = machine.getTransitionData(previous, event).map(transitionKey).join(',');
      key = via ? `${base} via ${via}` : (keys.get(previous) ?? base);
    }
    keys.set(snapshot, key);
    return key;
  };
}

/**
 * Shortest paths to every (snapshot, incoming transition) pair. Context must stay finite: bound any
 * counter that can grow with `stopWhen`. The traversal throws past `limit` snapshots (default 20 000)
 * instead of exhausting memory.
 */
export function transitionPaths<TMachine extends AnyStateMachine>(
  machine: TMachine,
  options: {
    input?: unknown;
    events?: AnyEventObject[] | ((snapshot: AnyMachineSnapshot) => AnyEventObject[]);
    stopWhen?: (snapshot: AnyMachineSnapshot) => boolean;
    limit?: number;
  },
) {
  return getShortestPaths(
    machine as unknown as AnyActorLogic,
    {
      ...(options.input === undefined ? {} : { input: options.input }),
      ...(options.events ? { events: options.events } : {}),
      ...(options.stopWhen ? { stopWhen: options.stopWhen } : {}),
      limit: options.limit ?? 20_000,
      serializeState: transitionAwareKey(machine) as never,
    } as never,
  );
}

/**
 * Collects the transitions an actor really takes: pass `collector.inspect` as the actor's `inspect`
 * option; every microstep's transitions are recorded by key.
 */
export function createTransitionCollector() {
  const taken = new Set<string>();
  return {
    taken,
    inspect(event: InspectionEvent) {
      if (event.type === '@xstate.microstep') for (const t of event._transitions) taken.add(transitionKey(t));
    },
  };
}

/** `"<label>: covered N/M transitions"` plus the keys never taken. */
function coverageReport(label: string, defined: Set<string>, taken: Set<string>) {
  const missing = [...defined].filter((key) => !taken.has(key));
  return {
    covered: defined.size - missing.length,
    total: defined.size,
    missing,
    line: `${label}: covered ${defined.size - missing.length}/${defined.size} transitions`,
  };
}

/** Prints `"<label>: covered N/M transitions"` and fails naming every transition of `machine` never taken. */
export function expectFullCoverage(label: string, machine: AnyStateMachine, taken: Set<string>): void {
  const report = coverageReport(label, definedTransitions(machine), taken);
  console.log(report.line);
  expect(report.missing).toEqual([]);
  expect(report.covered).toBe(report.total);
}
