/*
 * Durable means on disk: the A2A outbox log under a nearly full disk, a failed start-up rewrite,
 * damaged records and an unusable data directory. A nearly full disk is simulated by an injected
 * write function (short writes, ENOSPC after part of a record): a real full file system cannot be
 * made on demand in a test. Everything else is the real file system in a temporary directory.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { createBridge } from '../src/bridge/create-bridge.js';
import { defaultWrite } from '../src/persistence/fs.js';
import {
  createDurableOutbox,
  DataDirError,
  OUTBOX_FILE_NAME,
  OUTBOX_QUARANTINE_FILE_NAME,
  openPersistence,
  readOutboxFile,
  readOutboxLog,
  type WriteFn,
} from '../src/persistence/index.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lifeline-outbox-'));
  dirs.push(dir);
  return dir;
}
const envelope = (n: number) => ({ message_id: `m${n}`, content: { n, text: 'x'.repeat(40) } });
const quiet = { report: () => {} };

/** A disk that takes at most `chunk` bytes per write call, and fails with ENOSPC once `budget` is spent. */
function nearlyFullDisk(chunk: number, budget = Number.POSITIVE_INFINITY) {
  const disk = { chunk, budget, calls: 0 };
  const write: WriteFn = (fd, buffer, offset, length) => {
    disk.calls++;
    if (disk.budget <= 0)
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    const n = Math.min(length, disk.chunk, disk.budget);
    disk.budget -= n;
    return defaultWrite(fd, buffer, offset, n);
  };
  return { disk, write };
}

describe('durable A2A outbox on a nearly full disk', () => {
  test('a short write is completed: the record is whole on disk', () => {
    const dir = tempDir();
    const { disk, write } = nearlyFullDisk(7);
    const outbox = createDurableOutbox(dir, { write, ...quiet });
    outbox.accept({ id: 'a', envelope: envelope(1) });
    outbox.accept({ id: 'b', envelope: envelope(2) });
    outbox.close();
    expect(disk.calls).toBeGreaterThan(2);
    expect(readOutboxFile(join(dir, OUTBOX_FILE_NAME))).toEqual({
      pending: [
        { id: 'a', envelope: envelope(1) },
        { id: 'b', envelope: envelope(2) },
      ],
      damaged: [],
    });
  });

  test('a record cut short by ENOSPC throws (durable: false) and does not take the next record with it', () => {
    const dir = tempDir();
    const { disk, write } = nearlyFullDisk(10_000);
    const outbox = createDurableOutbox(dir, { write, ...quiet });
    outbox.accept({ id: 'a', envelope: envelope(1) });
    disk.budget = 20; // the next record gets 20 bytes on disk, then ENOSPC
    expect(() => outbox.accept({ id: 'b', envelope: envelope(2) })).toThrow(/not written.*ENOSPC/);
    disk.budget = Number.POSITIVE_INFINITY; // space freed
    outbox.accept({ id: 'c', envelope: envelope(3) });
    outbox.close();
    const contents = readOutboxFile(join(dir, OUTBOX_FILE_NAME));
    expect(contents.pending.map((m) => m.id)).toEqual(['a', 'c']);
    expect(contents.damaged).toEqual([]);
  });

  test('the start-up rewrite that fails keeps the old log whole: no record lost', () => {
    const dir = tempDir();
    const first = createDurableOutbox(dir, quiet);
    for (let n = 0; n < 5; n++) first.accept({ id: `m${n}`, envelope: envelope(n) });
    first.delivered('m1');
    first.close();
    const before = readFileSync(join(dir, OUTBOX_FILE_NAME), 'utf8');
    const { write } = nearlyFullDisk(10_000, 50); // the rewrite runs out of space half-way
    const report = vi.fn();
    const second = createDurableOutbox(dir, { write, report });
    expect(report).toHaveBeenCalledWith(expect.stringMatching(/could not compact.*kept as it was/));
    expect(readFileSync(join(dir, OUTBOX_FILE_NAME), 'utf8')).toBe(before);
    expect(second.pending().map((m) => m.id)).toEqual(['m0', 'm2', 'm3', 'm4']);
    second.close();
    expect(readOutboxLog(join(dir, OUTBOX_FILE_NAME)).map((m) => m.id)).toEqual(['m0', 'm2', 'm3', 'm4']);
  });
});

describe('damaged records', () => {
  test('are moved to the quarantine file and reported, never silently dropped', () => {
    const dir = tempDir();
    const first = createDurableOutbox(dir, quiet);
    first.accept({ id: 'a', envelope: envelope(1) });
    first.close();
    const log = join(dir, OUTBOX_FILE_NAME);
    writeFileSync(log, `${readFileSync(log, 'utf8')}{"type":"accepted","id":"b","envel\n{"garbage":true}\n`);
    const report = vi.fn();
    const second = createDurableOutbox(dir, { report });
    expect(second.quarantined).toBe(2);
    expect(second.problems).toEqual([
      expect.stringContaining(`2 damaged record(s) moved to ${second.quarantinePath}`),
    ]);
    expect(report).toHaveBeenCalledWith(expect.stringContaining(OUTBOX_QUARANTINE_FILE_NAME));
    const quarantined = readFileSync(join(dir, OUTBOX_QUARANTINE_FILE_NAME), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line).line);
    expect(quarantined).toEqual(['{"type":"accepted","id":"b","envel', '{"garbage":true}']);
    expect(second.pending().map((m) => m.id)).toEqual(['a']);
    second.close();
  });
});

test('the bridge shows quarantined records as the a2a backend lastError', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, OUTBOX_FILE_NAME), '{"type":"accep\n');
  const outbox = createDurableOutbox(dir, quiet);
  const bridge = createBridge({
    backends: {
      evolution: { enabled: false },
      agents: { enabled: false },
      lmStudio: { enabled: false },
      a2a: { url: 'ws://127.0.0.1:9/a2a' },
    },
    logger: { warn: () => {}, error: () => {} },
    persistence: { outbox },
  });
  expect(bridge.health().backends.a2a?.lastError).toMatch(/1 damaged record\(s\) moved to .*quarantine/);
  await bridge.stop();
  outbox.close();
});

describe('data directory', () => {
  test('one that cannot be created stops the start with its path and the reason', () => {
    const dir = tempDir();
    const file = join(dir, 'not-a-dir');
    writeFileSync(file, 'x');
    const target = join(file, 'state');
    let error: unknown;
    try {
      openPersistence(target);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(DataDirError);
    expect((error as Error).message).toBe(
      `data directory ${target} cannot be used: a file (not a directory) is in the way`,
    );
  });
});
