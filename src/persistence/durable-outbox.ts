/*
 * Node-only: the A2A outbox as an append-only log, one JSON record per line:
 *   {"type":"accepted","id":"…","envelope":{…}}   the bridge answered `queued: true` for it
 *   {"type":"delivered","id":"…"}                 it was written to the router's socket
 * Each record is written with `writeSync` and synced with `fsyncSync` before the call returns. On
 * open, the log is read (a torn last line from a crash is ignored), rewritten with only the messages
 * still pending, and those are offered for replay in their original order. Once nothing is pending,
 * the log is truncated to empty.
 */
import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { fsyncDir, writeFileAtomic } from './fs.js';
import type { A2AOutbox, OutboxMessage } from './types.js';

export const OUTBOX_FILE_NAME = 'a2a-outbox.jsonl';

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

/** Reads a log: the accepted-but-not-delivered messages, in the order they were accepted. */
export function readOutboxLog(path: string): OutboxMessage[] {
  if (!existsSync(path)) return [];
  const pending = new Map<string, OutboxMessage>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const record = parseRecord(line);
    if (!record) continue; // a torn write (crash mid-line) or garbage: skip it
    if (record.type === 'accepted') {
      if (!pending.has(record.id)) pending.set(record.id, { id: record.id, envelope: record.envelope });
    } else pending.delete(record.id);
  }
  return [...pending.values()];
}

export interface DurableOutbox extends A2AOutbox {
  /** The log file. */
  readonly path: string;
}

/**
 * Opens (or creates) the outbox log `<dir>/a2a-outbox.jsonl`. One bridge process per directory: the
 * log is not locked.
 */
export function createDurableOutbox(dir: string): DurableOutbox {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, OUTBOX_FILE_NAME);
  const pending = new Map<string, OutboxMessage>();
  for (const message of readOutboxLog(path)) pending.set(message.id, message);
  // Compact on open: only the pending messages, and no torn line for the next append to follow.
  writeFileAtomic(
    path,
    [...pending.values()]
      .map(
        (message) => `${JSON.stringify({ type: 'accepted', id: message.id, envelope: message.envelope })}\n`,
      )
      .join(''),
  );
  fsyncDir(dir);
  let fd: number | null = openSync(path, 'a');

  const append = (record: OutboxRecord) => {
    if (fd === null) throw new Error('a2a outbox: closed');
    writeSync(fd, `${JSON.stringify(record)}\n`);
    fsyncSync(fd);
  };

  return {
    path,
    accept(message) {
      if (pending.has(message.id)) return;
      append({ type: 'accepted', id: message.id, envelope: message.envelope });
      pending.set(message.id, { id: message.id, envelope: message.envelope });
    },
    delivered(id) {
      if (fd === null || !pending.has(id)) return;
      pending.delete(id);
      if (pending.size === 0) {
        // Everything delivered: nothing in the log is needed any more.
        ftruncateSync(fd);
        fsyncSync(fd);
        return;
      }
      append({ type: 'delivered', id });
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
