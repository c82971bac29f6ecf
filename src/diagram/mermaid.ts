import type { AnyStateMachine } from 'xstate';
import { machineDefinition, type StateJSON, type TransitionJSON } from './definition.js';

/** `xstate.after.backoff.retry.waiting` → `after(backoff)`; invoke events likewise. */
export function eventLabel(eventType: string, delay?: string | number): string {
  if (eventType.startsWith('xstate.after.')) return `after(${delay ?? eventType.split('.')[2]})`;
  if (eventType.startsWith('xstate.done.actor.'))
    return `done(${eventType.slice('xstate.done.actor.'.length)})`;
  if (eventType.startsWith('xstate.error.actor.'))
    return `error(${eventType.slice('xstate.error.actor.'.length)})`;
  return eventType === '' ? 'always' : eventType;
}

/** Node id of the pseudo-state root-level transitions are drawn from. */
export const ANY_STATE = 'any_state';

const nodeId = (ref: string | { id: string }) =>
  (typeof ref === 'string' ? ref : ref.id).replace(/^#/, '').replace(/[^A-Za-z0-9_]/g, '_');

function guardName(guard: TransitionJSON['guard']): string | undefined {
  if (!guard) return undefined;
  return typeof guard === 'string' ? guard : guard.type;
}

/**
 * Renders a machine as a Mermaid `stateDiagram-v2`, from its {@link machineDefinition} (states,
 * events, guards, delay names and eventless transitions). Targetless transitions are drawn as
 * self-loops; root-level transitions (which apply in every state) once, from a pseudo-state labelled
 * "any state".
 */
export function toMermaid(machine: AnyStateMachine): string {
  const root = machineDefinition(machine);
  const lines = ['stateDiagram-v2'];
  const edges: string[] = [];
  const edge = (from: string, t: TransitionJSON, indent: string) => {
    const label = [eventLabel(t.eventType, t.delay), guardName(t.guard) ? `[${guardName(t.guard)}]` : '']
      .filter(Boolean)
      .join(' ');
    const targets = t.target?.length ? t.target : [`#${from}`];
    for (const target of targets) edges.push(`${indent}${nodeId(from)} --> ${nodeId(target)}: ${label}`);
  };
  const render = (state: StateJSON, indent: string) => {
    const children = Object.values(state.states);
    const first = state.initial?.target?.[0] as string | { id: string } | undefined;
    const initial = typeof first === 'object' ? first.id : first;
    if (state.type === 'compound' && initial) edges.push(`${indent}[*] --> ${nodeId(initial)}`);
    children.forEach((child, index) => {
      if (state.type === 'parallel' && index > 0) lines.push(`${indent}--`);
      const id = nodeId(child.id);
      lines.push(`${indent}state "${child.key}" as ${id}`);
      if (child.invoke.length)
        lines.push(`${indent}${id}: invoke ${child.invoke.map((i) => i.id).join(', ')}`);
      if (Object.keys(child.states).length) {
        lines.push(`${indent}state ${id} {`);
        const saved = edges.length;
        render(child, `${indent}  `);
        lines.push(...edges.splice(saved));
        lines.push(`${indent}}`);
      }
      if (child.type === 'final') edges.push(`${indent}${id} --> [*]`);
      for (const transitions of Object.values(child.on))
        for (const t of transitions) edge(child.id, t, indent);
      for (const t of child.always ?? []) edge(child.id, t, indent);
    });
  };
  render(root, '  ');
  // Root-level transitions apply in every state: drawn once, from an "any state" pseudo-state.
  const rootTransitions = Object.values(root.on).flat();
  if (rootTransitions.length) {
    lines.push(`  state "any state" as ${ANY_STATE}`);
    for (const t of rootTransitions) edge(ANY_STATE, t, '  ');
  }
  return [...lines, ...edges].join('\n');
}
