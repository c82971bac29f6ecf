/*
 * Model-based coverage of the socket machine: the shortest paths through it (events of every kind,
 * delays included, bounded context) take every transition it defines.
 */
import { expect, test } from 'vitest';
import type { AnyMachineSnapshot } from 'xstate';
import { socketMachine } from '../machines/socket.machine.js';
import { coverageReport, definedTransitions, transitionKey, transitionPaths } from './support/transitions.js';

const input = {
  connectTimeoutMs: 100,
  baseDelayMs: 10,
  maxDelayMs: 40,
  heartbeatIntervalMs: 50,
  heartbeatTimeoutMs: 20,
  minUptimeMs: 30,
};

test('every transition of the socket machine is on a shortest path', () => {
  const paths = transitionPaths(socketMachine, {
    input,
    events: (snapshot) => [
      { type: 'START' },
      { type: 'STOP' },
      { type: 'RESUME' },
      { type: 'OPENED' },
      { type: 'CLOSED', code: 1006, reason: '' },
      { type: 'CLOSED', code: 1008, reason: 'policy' },
      { type: 'ERROR', message: 'boom' },
      { type: 'HEARTBEAT_DUE' },
      { type: 'PONG' },
      { type: 'HEARTBEAT_MISSED' },
      { type: 'BREAKER_OPEN' },
      { type: 'BREAKER_HALF_OPEN' },
      { type: 'BREAKER_CLOSED' },
      ...delayEvents(snapshot as AnyMachineSnapshot),
    ],
    stopWhen: (snapshot) => snapshot.context.errorCount > 2 || snapshot.context.attempt > 2,
  });
  const taken = new Set<string>();
  for (const path of paths) {
    for (let i = 1; i < path.steps.length; i++) {
      const previous = path.steps[i - 1]?.state as AnyMachineSnapshot;
      const step = path.steps[i] as { event: { type: string }; state: AnyMachineSnapshot };
      for (const t of socketMachine.getTransitionData(previous as never, step.event as never))
        taken.add(transitionKey(t));
    }
  }
  const report = coverageReport('socket machine', definedTransitions(socketMachine), taken);
  console.log(report.line);
  expect(report.missing).toEqual([]);
});

/** The machine's delayed events available in `snapshot`'s state. */
function delayEvents(snapshot: AnyMachineSnapshot): { type: string }[] {
  const events: { type: string }[] = [];
  for (const node of snapshot._nodes) {
    for (const eventType of node.transitions.keys()) {
      if (eventType.startsWith('xstate.after.')) events.push({ type: eventType });
    }
  }
  return events;
}
