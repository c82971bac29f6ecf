import { expect, test } from 'vitest';
import { breakerMachine } from '../machines/breaker.machine.js';
import { createManualClock, settle } from '../src/clock.js';
import { createCircuitBreaker } from '../src/reliability/breaker.js';
import {
  coverageReport,
  createTransitionCollector,
  definedTransitions,
  transitionPaths,
} from './support/transitions.js';

const input = { failureThreshold: 2, resetTimeoutMs: 1_000, halfOpenMaxCalls: 2, successThreshold: 2 };
const AFTER_RESET_TIMEOUT = 'xstate.after.resetTimeout.breaker.OPEN';

interface Deferred {
  resolve(value: string): void;
  reject(error: Error): void;
}

test('every transition of the breaker machine is replayed against createCircuitBreaker', async () => {
  const paths = transitionPaths(breakerMachine, {
    input,
    // Failed trials keep counting consecutive failures; one more than a trip is enough to explore.
    stopWhen: (snapshot) => snapshot.context.consecutiveFailures > input.failureThreshold + 1,
  });
  const collector = createTransitionCollector();
  expect(paths.length).toBeGreaterThan(10);

  for (const path of paths) {
    const clock = createManualClock();
    const breaker = createCircuitBreaker({ ...input, clock, inspect: collector.inspect });
    let trials: Deferred[] = [];
    let period = breaker.state;
    let finished = 0;
    const track = (promise: Promise<unknown>) =>
      promise.then(
        () => finished++,
        () => finished++,
      );

    for (const step of path.steps) {
      const type = step.event.type;
      if (type === 'xstate.init') continue;
      if (type === 'SUCCESS') await track(breaker.execute(() => 'ok'));
      else if (type === 'FAILURE') {
        await track(
          breaker.execute(() => {
            throw new Error('boom');
          }),
        );
      } else if (type === 'TRIAL_START') {
        const admitted = breaker.execute(
          () =>
            new Promise<string>((resolve, reject) => {
              trials.push({ resolve, reject });
            }),
        );
        void track(admitted);
      } else if (type === 'TRIAL_SUCCESS') trials.shift()?.resolve('ok');
      else if (type === 'TRIAL_FAILURE') trials.shift()?.reject(new Error('trial failed'));
      else if (type === 'RESET') breaker.reset();
      else if (type === AFTER_RESET_TIMEOUT) await clock.advance(input.resetTimeoutMs);
      else throw new Error(`unmapped event ${type}`);
      await settle();

      if (breaker.state !== period) {
        trials = []; // calls admitted in an earlier period no longer move the machine
        period = breaker.state;
      }
      const expected = step.state;
      const actual = breaker.actor.getSnapshot();
      expect(actual.value, `after ${type}`).toBe(expected.value);
      expect(actual.context).toEqual(expected.context);
      const metrics = breaker.metrics();
      expect(metrics.state).toBe(expected.value);
      expect(metrics.consecutiveFailures).toBe(expected.context.consecutiveFailures);
      expect(metrics.totalSuccesses + metrics.totalFailures + metrics.rejectedCalls).toBe(finished);
      expect(metrics.transitions.at(-1)?.to ?? 'CLOSED').toBe(expected.value);
      expect(clock.pendingTimers()).toBe(expected.value === 'OPEN' ? 1 : 0);
    }
    breaker.stop();
    expect(clock.pendingTimers()).toBe(0);
  }

  const report = coverageReport('breaker', definedTransitions(breakerMachine), collector.taken);
  console.log(report.line);
  expect(report.missing).toEqual([]);
  expect(report.covered).toBe(report.total);
});
