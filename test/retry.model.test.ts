import { expect, test } from 'vitest';
import type { InspectionEvent } from 'xstate';
import { retryMachine } from '../machines/retry.machine.js';
import { createManualClock, settle } from '../src/clock.js';
import { retry } from '../src/reliability/retry.js';
import { createTransitionCollector, expectFullCoverage, transitionPaths } from './support/transitions.js';

const policy = { maxRetries: 2, baseDelayMs: 100, maxDelayMs: 1_000, jitter: 0.2 };
const ERROR = 'xstate.error.actor.attempt';
const DONE = 'xstate.done.actor.attempt';
const AFTER_BACKOFF = 'xstate.after.backoff.retry.waiting';
const GRANTED = 'xstate.done.actor.acquireRetry';
const REFUSED = 'xstate.error.actor.acquireRetry';

class AttemptError extends Error {
  constructor(
    readonly retryable: boolean,
    /** Like an HTTP Retry-After: longer than the policy's maxDelayMs stops the loop. */
    readonly retryAfterMs?: number,
  ) {
    super(retryable ? 'transient' : 'permanent');
  }
}

/** The machine as `retry()` provides it, with `shouldRetry` reading the error's flag. */
const modelMachine = retryMachine.provide({
  guards: {
    isRetryable: ({ context }) => (context.lastError as AttemptError | undefined)?.retryable === true,
  },
});

test('every transition of the retry machine is replayed against retry()', async () => {
  const paths = transitionPaths(modelMachine, {
    input: { operation: 'model', ...policy },
    events: [
      { type: ERROR, error: new AttemptError(true) },
      { type: ERROR, error: new AttemptError(false) },
      { type: ERROR, error: new AttemptError(true, policy.maxDelayMs + 1) },
      { type: GRANTED },
      { type: REFUSED, error: new Error('budget exhausted') },
      { type: DONE, output: 'ok' },
      { type: 'ABORT', reason: 'stop' },
      { type: AFTER_BACKOFF },
    ],
    // A finished actor takes no more events.
    stopWhen: (snapshot) => snapshot.status === 'done',
  });
  const collector = createTransitionCollector();
  expect(paths.length).toBeGreaterThan(5);

  for (const path of paths) {
    const clock = createManualClock();
    const controller = new AbortController();
    const attempts: { resolve(value: string): void; reject(error: Error): void }[] = [];
    let machineState: string | undefined;
    const inspect = (event: InspectionEvent) => {
      collector.inspect(event);
      if (event.type === '@xstate.snapshot' && 'value' in event.snapshot) {
        machineState = (event.snapshot as { value: string }).value;
      }
    };
    let outcome: { value?: unknown; error?: unknown } | undefined;
    // The budget grants or refuses as the path's next step says: `acquiring` settles by itself.
    let grant = true;
    const budget = {
      onCall() {},
      tryAcquireRetry: () => grant,
      releaseRetry() {},
      snapshot: () => {
        throw new Error('not used');
      },
    };
    retry(
      () =>
        new Promise<string>((resolve, reject) => {
          attempts.push({ resolve, reject });
        }),
      {
        ...policy,
        operation: 'model',
        clock,
        random: () => 0.5,
        signal: controller.signal,
        shouldRetry: (error) => (error as AttemptError).retryable,
        budget,
        inspect,
      },
    ).then(
      (value) => {
        outcome = { value };
      },
      (error: unknown) => {
        outcome = { error };
      },
    );

    for (const [index, step] of path.steps.entries()) {
      const event = step.event as { type: string; error?: AttemptError; output?: string; reason?: string };
      if (event.type === 'xstate.init') continue;
      grant = path.steps[index + 1]?.event.type !== REFUSED;
      if (event.type === ERROR) attempts.at(-1)?.reject(event.error as AttemptError);
      else if (event.type === GRANTED || event.type === REFUSED) {
        // Taken by the runtime on its own once the attempt failed.
      } else if (event.type === DONE) attempts.at(-1)?.resolve(event.output as string);
      else if (event.type === 'ABORT') controller.abort(event.reason);
      else if (event.type === AFTER_BACKOFF) {
        expect(
          await clock.next(),
          path.steps
            .map(
              (s) =>
                `${s.event.type}->${JSON.stringify(s.state.value)}:${(s.state.context as { attempt: number }).attempt}`,
            )
            .join(' > '),
        ).toBe(true);
      } else throw new Error(`unmapped event ${event.type}`);
      await settle();

      const expected = step.state as unknown as { value: string; context: { attempt: number } };
      // `acquiring` lasts one microtask in the runtime: it is checked through the step after it.
      if (expected.value === 'acquiring') continue;
      // Before the first attempt fails, retry() runs without starting the machine.
      const actual =
        machineState ?? (outcome === undefined ? 'attempting' : 'value' in outcome ? 'succeeded' : 'aborted');
      expect(actual, `after ${event.type}`).toBe(expected.value);
      expect(attempts.length).toBe(expected.context.attempt + 1);
      expect(clock.pendingTimers()).toBe(expected.value === 'waiting' ? 1 : 0);
      if (expected.value === 'succeeded') expect(outcome).toEqual({ value: 'ok' });
      if (expected.value === 'aborted') expect(outcome).toEqual({ error: 'stop' });
      if (expected.value === 'failed') expect(outcome?.error).toBeInstanceOf(AttemptError);
      if (['attempting', 'waiting', 'evaluating', 'acquiring'].includes(expected.value))
        expect(outcome).toBeUndefined();
    }
  }

  expectFullCoverage('retry', retryMachine, collector.taken);
});
