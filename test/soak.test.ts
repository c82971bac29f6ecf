/*
 * The CI version of the soak (scripts/soak.ts): 60 seconds at ~200 tool calls per second against the
 * lab with its backends flapping at random, run in this process through the script's `runSoak()`.
 *
 * Asserted: the load really ran, no callTool promise rejected, nothing left in flight, heap growth
 * within the bound, no A2A message recorded twice by the router, and every accepted A2A message
 * delivered after the final drain: answered `queued: true` or written to a socket the router then
 * reset unread (the socket backend resends written but unconfirmed messages; the router drops the
 * resent copies by `message_id`, reported as `routerDuplicates`).
 */
import { expect, test } from 'vitest';
import { runSoak } from '../scripts/soak.js';

test('60-second soak: flat heap, every call answered, every accepted A2A message delivered once', async () => {
  const lines: string[] = [];
  const report = await runSoak({
    seconds: 60,
    everySeconds: 10,
    rate: 200,
    seed: 7,
    log: (line) => lines.push(line),
  });
  console.log(lines.join('\n'));
  expect(report.calls).toBeGreaterThan(60 * 200 * 0.8);
  expect(report.faultsApplied).toBeGreaterThan(10);
  expect(report.errors.REJECTED ?? 0).toBe(0);
  expect(report.problems.filter((p) => /in flight|rejected|heap/.test(p))).toEqual([]);
  expect(report.heapGrowthMb).toBeLessThan(24);
  expect(report.a2a.sent).toBeGreaterThan(0);
  expect(report.a2a.queuedAnswers).toBeGreaterThan(0);
  expect(report.a2a.missingQueued).toBe(0);
  expect(report.a2a.duplicates).toBe(0);
  expect(report.a2a.missing).toBe(0);
  expect(report.a2a.delivered).toBe(report.a2a.sent);
}, 120_000);
