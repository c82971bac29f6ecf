/** A transition as it appears in a machine definition (`toJSON()`), eventless ones included. */
export interface TransitionJSON {
  target?: string[];
  guard?: string | { type: string };
  delay?: string | number;
  /** `''` for an eventless (`always`) transition. */
  eventType: string;
}

/** A state node as it appears in {@link machineDefinition}. */
export interface StateJSON {
  id: string;
  key: string;
  type: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
  initial?: { target: (string | { id: string })[] };
  states: Record<string, StateJSON>;
  on: Record<string, TransitionJSON[]>;
  /** Eventless transitions, which `toJSON()` leaves out. */
  always?: TransitionJSON[];
  invoke: { id: string; src: string }[];
}

interface StateNodeLike {
  id: string;
  states: Record<string, StateNodeLike>;
  always?: { target?: readonly { id: string }[]; guard?: unknown }[];
}

/** What {@link machineDefinition} needs of a machine (any XState `StateMachine` has it). */
export interface MachineLike {
  toJSON(): unknown;
  root: StateNodeLike;
}

/**
 * `machine.toJSON()` as plain data, with each state's eventless (`always`) transitions added (as
 * `{ eventType: '', target: ['#id'], guard? }`) and the duplicate `transitions` lists left out. The one
 * definition both the README diagrams and the inspector draw from.
 */
export function machineDefinition(machine: MachineLike): StateJSON {
  const json = JSON.parse(JSON.stringify(machine.toJSON())) as StateJSON & { transitions?: unknown };
  const nodes = new Map<string, StateNodeLike>();
  const collect = (node: StateNodeLike) => {
    nodes.set(node.id, node);
    for (const child of Object.values(node.states ?? {})) collect(child);
  };
  collect(machine.root);
  const addAlways = (state: StateJSON & { transitions?: unknown }) => {
    delete state.transitions;
    const node = nodes.get(state.id);
    if (node?.always?.length) {
      state.always = node.always.map((t) => {
        const guard = t.guard as string | { type?: string } | undefined;
        const name = typeof guard === 'string' ? guard : guard?.type;
        return {
          eventType: '',
          target: (t.target ?? []).map((target) => `#${target.id}`),
          ...(name ? { guard: name } : {}),
        };
      });
    }
    for (const child of Object.values(state.states ?? {})) addAlways(child);
  };
  addAlways(json);
  return json;
}
