import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { backoffDelay } from '../machines/backoff.js';
import { createManualClock, settle } from '../src/clock.js';
import { createCircuitBreaker } from '../src/reliability/breaker.js';
import { retry } from '../src/reliability/retry.js';

type Command =
  | { kind: 'call'; fails: boolean; sync: boolean }
  | { kind: 'finish'; index: number }
  | { kind: 'advance'; ms: number }
  | { kind: 'reset' };

const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('call' as const),
      // Failures more often than not, so that the breaker trips and half-opens often.
      fails: fc.integer({ min: 0, max: 9 }).map((n) => n < 6),
      sync: fc.boolean(),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('finish' as const), index: fc.nat(20) }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 300 }) }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'reset' as const }) },
);

describe('circuit breaker invariants under random calls, outcomes and clock advances', () => {
  test('trial slots, totals, history and time in state hold', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          failureThreshold: fc.integer({ min: 1, max: 4 }),
          successThreshold: fc.integer({ min: 1, max: 3 }),
          halfOpenMaxCalls: fc.integer({ min: 1, max: 3 }),
          resetTimeoutMs: fc.integer({ min: 1, max: 300 }),
        }),
        fc.array(command, { minLength: 20, maxLength: 200 }),
        async (options, commands) => {
          const clock = createManualClock(1_000);
          const breaker = createCircuitBreaker({ ...options, clock });
          let period = 0;
          breaker.onTransition(() => {
            period++;
          });
          const pending: { settle(): void; period: number; halfOpen: boolean; done: boolean }[] = [];
          let admitted = 0;
          let overAdmissions = 0;
          let finished = 0;

          const inFlightTrials = () =>
            pending.filter((c) => !c.done && c.halfOpen && c.period === period).length;

          for (const step of commands) {
            if (step.kind === 'call') {
              const call = breaker.execute(() => {
                admitted++;
                const entry = {
                  settle: () => {},
                  period,
                  halfOpen: breaker.state === 'HALF_OPEN',
                  done: false,
                };
                if (step.sync) {
                  entry.done = true;
                  if (step.fails) throw new Error('sync failure');
                  return 'sync';
                }
                pending.push(entry);
                // Checked here and asserted outside: an assertion thrown inside fn would count as a call failure.
                if (entry.halfOpen && inFlightTrials() > options.halfOpenMaxCalls) overAdmissions++;
                return new Promise<string>((resolve, reject) => {
                  entry.settle = () => (step.fails ? reject(new Error('async failure')) : resolve('async'));
                });
              });
              call.then(
                () => finished++,
                (error: Error) => {
                  if (error.name !== 'BrokenCircuitError') finished++;
                },
              );
            } else if (step.kind === 'finish') {
              const open = pending.filter((c) => !c.done);
              const target = open[step.index % Math.max(1, open.length)];
              if (target) {
                target.done = true;
                target.settle();
              }
            } else if (step.kind === 'advance') await clock.advance(step.ms);
            else breaker.reset();
            await settle();

            expect(overAdmissions).toBe(0);
            expect(inFlightTrials()).toBeLessThanOrEqual(options.halfOpenMaxCalls);
            const m = breaker.metrics();
            expect(m.totalSuccesses + m.totalFailures).toBe(finished);
            expect(finished).toBeLessThanOrEqual(admitted);
            expect(m.transitions.length).toBeLessThanOrEqual(100);
            for (let i = 1; i < m.transitions.length; i++) {
              expect(m.transitions[i]?.from).toBe(m.transitions[i - 1]?.to);
              expect(m.transitions[i]?.at).toBeGreaterThanOrEqual(m.transitions[i - 1]?.at ?? 0);
            }
            expect(m.transitions.at(-1)?.to ?? 'CLOSED').toBe(m.state);
            const { CLOSED, OPEN, HALF_OPEN } = m.timeInStateMs;
            expect(CLOSED + OPEN + HALF_OPEN).toBe(clock.now() - 1_000);
            expect(clock.pendingTimers()).toBe(m.state === 'OPEN' ? 1 : 0);
          }
          breaker.stop();
          expect(clock.pendingTimers()).toBe(0);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('retry invariants under random policies, failures and aborts', () => {
  test('delays stay in their jitter band, attempts ≤ 1 + maxRetries, no timer survives', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          maxRetries: fc.integer({ min: 0, max: 6 }),
          baseDelayMs: fc.integer({ min: 0, max: 1_000 }),
          maxDelayMs: fc.integer({ min: 0, max: 5_000 }),
          jitter: fc.double({ min: 0, max: 1, noNaN: true }),
        }),
        fc.integer({ min: 0, max: 10 }),
        fc.option(fc.integer({ min: 0, max: 20_000 }), { nil: undefined }),
        fc.infiniteStream(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true })),
        async (policy, failuresBeforeSuccess, abortAfterMs, draws) => {
          const clock = createManualClock();
          const controller = new AbortController();
          const random = () => draws.next().value as number;
          const delays: number[] = [];
          let attempts = 0;
          let outcome: 'ok' | 'failed' | 'aborted' | undefined;
          retry(
            async (attempt) => {
              expect(attempt).toBe(attempts);
              attempts++;
              if (attempts <= failuresBeforeSuccess) throw new Error(`failure ${attempts}`);
              return 'ok';
            },
            {
              ...policy,
              clock,
              random,
              signal: controller.signal,
              onRetry: ({ delayMs }) => delays.push(delayMs),
            },
          ).then(
            () => {
              outcome = 'ok';
            },
            (error: unknown) => {
              outcome = error === 'abort' ? 'aborted' : 'failed';
            },
          );
          if (abortAfterMs !== undefined) clock.setTimeout(() => controller.abort('abort'), abortAfterMs);
          for (let i = 0; i < 50 && outcome === undefined; i++) {
            if (!(await clock.next())) await settle();
          }
          await settle();
          expect(outcome).toBeDefined();
          expect(attempts).toBeLessThanOrEqual(1 + policy.maxRetries);
          delays.forEach((delay, k) => {
            const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** k);
            expect(delay).toBeGreaterThanOrEqual(exponential * (1 - policy.jitter) - 1e-9);
            expect(delay).toBeLessThanOrEqual(
              Math.min(policy.maxDelayMs, exponential * (1 + policy.jitter)) + 1e-9,
            );
          });
          if (outcome === 'ok') expect(attempts).toBe(failuresBeforeSuccess + 1);
          if (outcome === 'failed')
            expect(attempts).toBe(Math.min(failuresBeforeSuccess, 1 + policy.maxRetries));
          // Nothing but the abort timer (if it has not fired yet) may remain.
          controller.abort('abort');
          await settle();
          expect(clock.pendingTimers()).toBeLessThanOrEqual(abortAfterMs !== undefined ? 1 : 0);
          const before = attempts;
          while (await clock.next()) {}
          expect(attempts).toBe(before);
        },
      ),
      { numRuns: 200 },
    );
  });

  test('backoffDelay is capped by maxDelayMs for any draw', () => {
    fc.assert(
      fc.property(
        fc.nat(40),
        fc.record({
          baseDelayMs: fc.double({ min: 0, max: 1e6, noNaN: true }),
          maxDelayMs: fc.double({ min: 0, max: 1e6, noNaN: true }),
          jitter: fc.double({ min: 0, max: 1, noNaN: true }),
        }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (k, options, draw) => {
          const delay = backoffDelay(k, options, () => draw);
          expect(delay).toBeLessThanOrEqual(options.maxDelayMs);
          expect(delay).toBeGreaterThanOrEqual(0);
        },
      ),
    );
  });
});
