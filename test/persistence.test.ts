import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { createManualClock } from '../src/clock.js';
import { loadConfig } from '../src/config.js';
import {
  createDurableOutbox,
  createFileBreakerStore,
  persistBreakers,
  readOutboxLog,
  snapshotBreaker,
  withPersistence,
} from '../src/persistence/index.js';
import { createCircuitBreaker } from '../src/reliability/breaker.js';

const T0 = 1_700_000_000_000;
const options = { failureThreshold: 2, resetTimeoutMs: 10_000, halfOpenMaxCalls: 1, successThreshold: 1 };
const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'webmcp-persist-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const fail = () => Promise.reject(new Error('down'));

async function tripped(clock = createManualClock(T0)) {
  const breaker = createCircuitBreaker({ ...options, name: 'a2a', clock });
  await breaker.execute(fail).catch(() => {});
  await breaker.execute(fail).catch(() => {});
  return { breaker, clock };
}

describe('breaker checkpoints (absolute deadlines)', () => {
  test('an OPEN breaker saves when it opened and when it reopens', async () => {
    const { breaker, clock } = await tripped();
    await clock.advance(3_000);
    const saved = snapshotBreaker(breaker, clock);
    expect(saved).toEqual({
      name: 'a2a',
      state: 'OPEN',
      consecutiveFailures: 2,
      openedAt: T0,
      reopensAt: T0 + 10_000,
      savedAt: T0 + 3_000,
    });
    breaker.stop();
  });

  test('restored before its deadline, it stays OPEN and moves to HALF_OPEN at the original deadline', async () => {
    const { breaker } = await tripped();
    const saved = snapshotBreaker(breaker);
    breaker.stop();
    const clock = createManualClock(T0 + 4_000); // a new process, 4 s later
    const restored = createCircuitBreaker({ ...options, name: 'a2a', clock, restore: saved });
    expect(restored.state).toBe('OPEN');
    expect(restored.metrics().consecutiveFailures).toBe(2);
    expect(clock.pendingTimers()).toBe(1);
    const refusal = await restored.execute(() => 'ok').catch((error: unknown) => error);
    expect(refusal).toMatchObject({ name: 'BrokenCircuitError', state: 'OPEN', retryAfterMs: 6_000 });
    await clock.advance(5_999);
    expect(restored.state).toBe('OPEN');
    await clock.advance(1);
    expect(restored.state).toBe('HALF_OPEN');
    expect(restored.metrics().transitions.at(-1)).toMatchObject({
      from: 'OPEN',
      to: 'HALF_OPEN',
      at: T0 + 10_000,
      reason: 'reset timeout elapsed',
    });
    expect(await restored.execute(() => 'probe')).toBe('probe');
    expect(restored.state).toBe('CLOSED');
    restored.stop();
  });

  test('restored after its deadline, it is HALF_OPEN at once, with no timer left', async () => {
    const { breaker } = await tripped();
    const saved = snapshotBreaker(breaker);
    breaker.stop();
    const clock = createManualClock(T0 + 60_000);
    const restored = createCircuitBreaker({ ...options, clock, restore: saved });
    expect(restored.state).toBe('HALF_OPEN');
    expect(clock.pendingTimers()).toBe(0);
    await expect(restored.execute(fail)).rejects.toThrow('down');
    expect(restored.state).toBe('OPEN'); // a failed probe reopens it with a full period
    expect(snapshotBreaker(restored, clock).reopensAt).toBe(T0 + 70_000);
    restored.stop();
  });

  test('a restored OPEN breaker that is reset drops the resumed timer', async () => {
    const { breaker } = await tripped();
    const saved = snapshotBreaker(breaker);
    breaker.stop();
    const clock = createManualClock(T0 + 1_000);
    const restored = createCircuitBreaker({ ...options, clock, restore: saved });
    restored.reset();
    expect(restored.state).toBe('CLOSED');
    expect(clock.pendingTimers()).toBe(0);
    await clock.advance(20_000);
    expect(restored.state).toBe('CLOSED');
    restored.stop();
  });

  test('CLOSED keeps its consecutive failures; HALF_OPEN resumes with free trial slots', async () => {
    const clock = createManualClock(T0);
    const closed = createCircuitBreaker({
      ...options,
      clock,
      restore: { state: 'CLOSED', consecutiveFailures: 1, openedAt: null, reopensAt: null },
    });
    expect(closed.metrics().consecutiveFailures).toBe(1);
    await closed.execute(fail).catch(() => {});
    expect(closed.state).toBe('OPEN'); // the restored failure plus this one reach the threshold
    closed.stop();
    const half = createCircuitBreaker({
      ...options,
      clock,
      restore: { state: 'HALF_OPEN', consecutiveFailures: 2, openedAt: T0 - 20_000, reopensAt: null },
    });
    expect(half.state).toBe('HALF_OPEN');
    expect(await half.execute(() => 'ok')).toBe('ok');
    expect(half.state).toBe('CLOSED');
    half.stop();
  });

  test('through the file store: saved on every change, restored by a new process at the original deadline', async () => {
    const dir = tempDir();
    const clock = createManualClock(T0);
    const store = createFileBreakerStore(dir);
    const breaker = createCircuitBreaker({ ...options, name: 'a2a', clock });
    const stop = persistBreakers(store, [breaker], { clock });
    await breaker.execute(fail).catch(() => {});
    await breaker.execute(fail).catch(() => {});
    await Promise.resolve();
    const onDisk = JSON.parse(readFileSync(join(dir, 'breakers.json'), 'utf8'));
    expect(onDisk.breakers.a2a).toMatchObject({ state: 'OPEN', openedAt: T0, reopensAt: T0 + 10_000 });
    // SIGKILL here: no stop(), no flush. A new process reads the file.
    const later = createManualClock(T0 + 7_500);
    const reopened = createFileBreakerStore(dir).load('a2a');
    expect(reopened).toBeDefined();
    const restored = createCircuitBreaker({ ...options, name: 'a2a', clock: later, restore: reopened });
    expect(restored.state).toBe('OPEN');
    await later.advance(2_499);
    expect(restored.state).toBe('OPEN');
    await later.advance(1);
    expect(restored.state).toBe('HALF_OPEN');
    stop();
    breaker.stop();
    restored.stop();
  });

  test('the file store ignores an unreadable file and writes atomically (no temp file left)', () => {
    const dir = tempDir();
    appendFileSync(join(dir, 'breakers.json'), '{ torn');
    const store = createFileBreakerStore(dir);
    expect(store.load('a2a')).toBeUndefined();
    store.save([
      { name: 'a2a', state: 'CLOSED', consecutiveFailures: 3, openedAt: null, reopensAt: null, savedAt: T0 },
    ]);
    expect(createFileBreakerStore(dir).load('a2a')?.consecutiveFailures).toBe(3);
    expect(readFileSync(join(dir, 'breakers.json'), 'utf8')).not.toContain('torn');
  });
});

describe('durable A2A outbox', () => {
  const envelope = (n: number) => ({ message_id: `m${n}`, content: { n } });

  test('accepted-but-not-delivered messages survive a reopen, in order', () => {
    const dir = tempDir();
    const outbox = createDurableOutbox(dir);
    for (let n = 0; n < 5; n++) outbox.accept({ id: `m${n}`, envelope: envelope(n) });
    outbox.delivered('m1');
    outbox.delivered('m3');
    // No close(): as after a SIGKILL, only what was synced counts.
    const reopened = createDurableOutbox(dir);
    expect(reopened.pending().map((m) => m.id)).toEqual(['m0', 'm2', 'm4']);
    expect(reopened.pending()[1]?.envelope).toEqual(envelope(2));
    outbox.close();
    reopened.close();
  });

  test('compacts to an empty log once everything is delivered', () => {
    const dir = tempDir();
    const outbox = createDurableOutbox(dir);
    outbox.accept({ id: 'a', envelope: envelope(1) });
    outbox.accept({ id: 'b', envelope: envelope(2) });
    outbox.delivered('a');
    expect(statSync(outbox.path).size).toBeGreaterThan(0);
    outbox.delivered('b');
    expect(statSync(outbox.path).size).toBe(0);
    outbox.accept({ id: 'c', envelope: envelope(3) });
    expect(readOutboxLog(outbox.path).map((m) => m.id)).toEqual(['c']);
    outbox.close();
  });

  test('a torn last line (crash mid-write) is ignored and removed on open', () => {
    const dir = tempDir();
    const outbox = createDurableOutbox(dir);
    outbox.accept({ id: 'a', envelope: envelope(1) });
    outbox.close();
    appendFileSync(outbox.path, '{"type":"accepted","id":"b","envel');
    const reopened = createDurableOutbox(dir);
    expect(reopened.pending().map((m) => m.id)).toEqual(['a']);
    reopened.accept({ id: 'c', envelope: envelope(3) });
    expect(readOutboxLog(reopened.path).map((m) => m.id)).toEqual(['a', 'c']);
    reopened.close();
  });

  test('records are one JSON line each: accepted {id, envelope}, delivered {id}', () => {
    const dir = tempDir();
    const outbox = createDurableOutbox(dir);
    outbox.accept({ id: 'a', envelope: envelope(1) });
    outbox.accept({ id: 'b', envelope: envelope(2) });
    outbox.delivered('a');
    const lines = readFileSync(outbox.path, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines).toEqual([
      { type: 'accepted', id: 'a', envelope: envelope(1) },
      { type: 'accepted', id: 'b', envelope: envelope(2) },
      { type: 'delivered', id: 'a' },
    ]);
    outbox.close();
  });
});

describe('dataDir configuration', () => {
  test('MCP_LIFELINE_DATA_DIR and overrides set it, resolved against cwd; withPersistence opens it', () => {
    const cwd = tempDir();
    const fromEnv = loadConfig({ cwd, env: { MCP_LIFELINE_DATA_DIR: 'state' } });
    expect(fromEnv.dataDir).toBe(join(cwd, 'state'));
    const fromFlag = loadConfig({
      cwd,
      env: { MCP_LIFELINE_DATA_DIR: 'state' },
      overrides: { dataDir: 'flag' },
    });
    expect(fromFlag.dataDir).toBe(join(cwd, 'flag'));
    expect(loadConfig({ cwd, env: {} }).dataDir).toBeUndefined();
    expect(() => loadConfig({ cwd, env: {}, overrides: {} })).not.toThrow();

    const opened = withPersistence(fromEnv);
    expect(opened.config.persistence?.breakers).toBeDefined();
    expect(opened.config.persistence?.outbox?.pending()).toEqual([]);
    expect(statSync(join(cwd, 'state', 'a2a-outbox.jsonl')).size).toBe(0);
    opened.close();
    const without = withPersistence(loadConfig({ cwd, env: {} }));
    expect(without.config.persistence).toBeUndefined();
  });
});
