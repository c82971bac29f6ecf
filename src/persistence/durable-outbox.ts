/*
 * Node-only: the A2A outbox as an append-only log, one JSON record per line:
 *   {"type":"accepted","id":"…","envelope":{…}}   the bridge answered `queued: true` for it
 *   {"type":"delivered","id":"…"}                 the router confirmed it read it
 * Each record is written in full (a short write is continued) and synced with `fsyncSync` before the
 * call returns; a record that cannot be written whole is cut off again (the log ends where it did)
 * and the call throws, so that the caller answers `durable: false` and the next record does not land
 * on a torn line. On open, the log is read; lines that are not records (damaged, or torn by a crash)
 * are moved to `a2a-outbox.quarantine.jsonl` and reported, never silently dropped; the log is then
 * rewritten with only the messages still pending (new file, fsync, read back, rename: the old log
 * stays whole if that fails), and those are offered for replay in their original order. Once nothing
 * is pending, the log is truncated to empty.
 */
import {
  appendFileSync,
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '../../machines/error-message.js';
import { defaultWrite, ensureDataDir, fsyncDir, type WriteFn, writeFileAtomic, writeFully } from './fs.js';
import type { A2AOutbox, OutboxMessage } from './types.js';

export const OUTBOX_FILE_NAME = 'a2a-outbox.jsonl';
/** Where damaged lines of the outbox log are moved, with the time and the reason. */
export const OUTBOX_QUARANTINE_FILE_NAME = 'a2a-outbox.quarantine.jsonl';

type OutboxRecord =
  | { type: 'accepted'; id: string; envelope: Record<string, unknown> }
  | { type: 'delivered'; id: string };

function parseRecord(line: string): OutboxRecord | null {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return null;
  }
  const record = value as Partial<OutboxRecord> & { envelope?: unknown };
  if (!record || typeof record !== 'object' || typeof record.id !== 'string' || !record.id) return null;
  if (record.type === 'delivered') return { type: 'delivered', id: record.id };
  if (record.type === 'accepted' && record.envelope && typeof record.envelope === 'object')
    return { type: 'accepted', id: record.id, envelope: record.envelope as Record<string, unknown> };
  return null;
}

/** What a log holds: the pending messages in acceptance order, and the lines that are not records. */
export interface OutboxLogContents {
  pending: OutboxMessage[];
  damaged: string[];
}

/** Reads a log: pending messages (accepted, not delivered, oldest first) and damaged lines. */
export function readOutboxFile(path: string): OutboxLogContents {
  if (!existsSync(path)) return { pending: [], damaged: [] };
  const pending = new Map<string, OutboxMessage>();
  const damaged: string[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const record = parseRecord(line);
    if (!record) {
      damaged.push(line);
      continue;
    }
    if (record.type === 'accepted') {
      if (!pending.has(record.id)) pending.set(record.id, { id: record.id, envelope: record.envelope });
    } else pending.delete(record.id);
  }
  return { pending: [...pending.values()], damaged };
}

/** Reads a log: the accepted-but-not-delivered messages, in the order they were accepted. */
export function readOutboxLog(path: string): OutboxMessage[] {
  return readOutboxFile(path).pending;
}

export interface DurableOutbox extends A2AOutbox {
  /** The log file. */
  readonly path: string;
  /** Where damaged lines went. */
  readonly quarantinePath: string;
  /** Damaged lines moved to the quarantine file when this outbox was opened. */
  readonly quarantined: number;
}

export interface DurableOutboxOptions {
  /** The write function (`fs.writeSync` shape). Tests inject a short or failing one to simulate a full disk. */
  write?: WriteFn;
  /** Where problems found on open are reported. Default: a line on stderr. */
  report?: (message: string) => void;
}

/**
 * Opens (or creates) the outbox log `<dir>/a2a-outbox.jsonl`. One bridge process per directory: the
 * log is not locked. Throws a `DataDirError` naming the directory when it cannot be used.
 */
export function createDurableOutbox(dir: string, options: DurableOutboxOptions = {}): DurableOutbox {
  const write = options.write ?? defaultWrite;
  const report = options.report ?? ((message: string) => process.stderr.write(`mcp-lifeline: ${message}\n`));
  ensureDataDir(dir);
  const path = join(dir, OUTBOX_FILE_NAME);
  const quarantinePath = join(dir, OUTBOX_QUARANTINE_FILE_NAME);
  const problems: string[] = [];
  const contents = readOutboxFile(path);
  const pending = new Map<string, OutboxMessage>();
  for (const message of contents.pending) pending.set(message.id, message);

  let quarantined = 0;
  let keepLog = false;
  if (contents.damaged.length > 0) {
    const at = new Date().toISOString();
    try {
      appendFileSync(
        quarantinePath,
        contents.damaged
          .map((line) => `${JSON.stringify({ at, reason: 'not an outbox record', line })}\n`)
          .join(''),
      );
      const fd = openSync(quarantinePath, 'r+');
      fsyncSync(fd);
      closeSync(fd);
      quarantined = contents.damaged.length;
      problems.push(`a2a outbox: ${quarantined} damaged record(s) moved to ${quarantinePath}`);
    } catch (error) {
      keepLog = true; // cannot move them: leave them where they are rather than lose them
      problems.push(
        `a2a outbox: ${contents.damaged.length} damaged record(s) left in ${path} (quarantine failed: ${errorMessage(error)})`,
      );
    }
  }
  if (!keepLog) {
    // Compact on open: only the pending messages, and no torn line for the next append to follow.
    try {
      writeFileAtomic(
        path,
        [...pending.values()]
          .map((m) => `${JSON.stringify({ type: 'accepted', id: m.id, envelope: m.envelope })}\n`)
          .join(''),
        write,
      );
      fsyncDir(dir);
    } catch (error) {
      problems.push(`a2a outbox: could not compact ${path} (kept as it was): ${errorMessage(error)}`);
    }
  }
  for (const problem of problems) report(problem);

  let fd: number | null = openSync(path, 'a');
  let size = fstatSync(fd).size;
  if (size > 0 && !readFileSync(path, 'utf8').endsWith('\n')) {
    // The old log kept with a torn last line: end it, so that the next record starts on its own line.
    size += writeFully(fd, '\n', write);
    fsyncSync(fd);
  }

  const append = (record: OutboxRecord) => {
    if (fd === null) throw new Error('a2a outbox: closed');
    const text = `${JSON.stringify(record)}\n`;
    try {
      const bytes = writeFully(fd, text, write);
      fsyncSync(fd);
      size += bytes;
    } catch (error) {
      // Cut off what part of the record was written: the log ends on a whole record again.
      try {
        ftruncateSync(fd, size);
        fsyncSync(fd);
      } catch {
        // the record's torn start stays; it is quarantined on the next open
      }
      throw new Error(`a2a outbox: ${path}: record not written (${errorMessage(error)})`);
    }
  };

  return {
    path,
    quarantinePath,
    quarantined,
    problems,
    accept(message) {
      if (pending.has(message.id)) return;
      append({ type: 'accepted', id: message.id, envelope: message.envelope });
      pending.set(message.id, { id: message.id, envelope: message.envelope });
    },
    delivered(id) {
      if (fd === null || !pending.has(id)) return;
      if (pending.size === 1) {
        // Everything delivered: nothing in the log is needed any more.
        ftruncateSync(fd);
        fsyncSync(fd);
        size = 0;
        pending.delete(id);
        return;
      }
      append({ type: 'delivered', id });
      pending.delete(id);
    },
    pending: () => [...pending.values()].map((message) => ({ ...message })),
    close() {
      if (fd === null) return;
      closeSync(fd);
      fd = null;
    },
  };
}

/** Size of the log in bytes (for tests and status). */
export function outboxLogSize(outbox: DurableOutbox): number {
  const fd = openSync(outbox.path, 'r');
  try {
    return fstatSync(fd).size;
  } finally {
    closeSync(fd);
  }
}
