/*
 * The breaker machine's pure transition: the next snapshot and the delayed events to schedule or
 * cancel, nothing run. It is what XState's `initialTransition()` / `transition()` compute — the
 * machine's own `getInitialSnapshot` / `transition` with an inert actor scope that collects the
 * actions — except that one inert scope serves every breaker: those two functions build a throwaway
 * actor and actor system on every call, about ten times the cost of an actor's `send`
 * (`npx tsx --expose-gc bench/breaker-heap.ts` prints both), paid on every failure and, with the
 * failure-rate rule, on every call.
 *
 * The breaker machine's actions are `assign`s (pure, applied inside the transition) and the delayed
 * raise and cancel of OPEN's `after` timer; any other action would be an effect this breaker does not
 * run without an actor, so it throws (the model test replays every transition).
 */
import { type AnyEventObject, createActor, type ExecutableActionObject, type SnapshotFrom } from 'xstate';
import {
  type BreakerMachine,
  type BreakerMachineInput,
  breakerMachine,
} from '../../machines/breaker.machine.js';

type Snapshot = SnapshotFrom<BreakerMachine>;
type Scope = Parameters<BreakerMachine['transition']>[2];

/** A delayed event to schedule (`raise` with a delay) or to cancel, by id. */
export type PlannedAction =
  | { kind: 'raise'; id: string; event: AnyEventObject; delay: number }
  | { kind: 'cancel'; id: string };

const NONE: readonly PlannedAction[] = [];
/** The actions of the transition being computed (transitions are synchronous: one at a time). */
const collected: PlannedAction[] = [];
let unnamed = 0;

function collect(action: ExecutableActionObject): void {
  if (action.type === 'xstate.raise') {
    const { event, delay, id } = action.params as { event: AnyEventObject; delay?: number; id?: string };
    // An undelayed raise is already handled inside the transition.
    if (typeof delay === 'number')
      collected.push({ kind: 'raise', id: id ?? `raise.${unnamed++}`, event, delay });
    return;
  }
  if (action.type === 'xstate.cancel') {
    collected.push({ kind: 'cancel', id: (action.params as { sendId: string }).sendId });
    return;
  }
  throw new Error(`breaker machine: action '${action.type}' needs an actor to run`);
}

let scope: Scope | undefined;

/** The shared inert scope: its `self` is an actor that is never started. */
function inertScope(): Scope {
  if (scope) return scope;
  const self = createActor(breakerMachine, {
    input: { failureThreshold: 1, resetTimeoutMs: 1, halfOpenMaxCalls: 1, successThreshold: 1 },
  });
  const inert: Scope = {
    self,
    id: '',
    sessionId: '',
    logger: () => {},
    defer: () => {},
    emit: () => {},
    system: self.system,
    stopChild: () => {},
    actionExecutor: collect,
  };
  scope = inert;
  return inert;
}

function drain(): readonly PlannedAction[] {
  return collected.length === 0 ? NONE : collected.splice(0);
}

export const pureTransition = {
  /** The snapshot a breaker starts with (its `resume` already applied) and its delayed events. */
  initial(input: BreakerMachineInput): [Snapshot, readonly PlannedAction[]] {
    collected.length = 0;
    const snapshot = breakerMachine.getInitialSnapshot(inertScope(), input);
    return [snapshot, drain()];
  },
  /** The snapshot after `event` (the same object when nothing changed) and its delayed events. */
  next(snapshot: Snapshot, event: AnyEventObject): [Snapshot, readonly PlannedAction[]] {
    collected.length = 0;
    const next = breakerMachine.transition(snapshot, event as never, inertScope());
    return [next, drain()];
  },
};
