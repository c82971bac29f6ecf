/** Node-only: breaker states in one JSON file, replaced atomically on every save. */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from './fs.js';
import type { BreakerStore, PersistedBreaker } from './types.js';

export const BREAKER_FILE_NAME = 'breakers.json';

interface BreakerFile {
  version: 1;
  breakers: Record<string, PersistedBreaker>;
}

const STATES = new Set(['CLOSED', 'OPEN', 'HALF_OPEN']);

function isPersistedBreaker(value: unknown): value is PersistedBreaker {
  const record = value as Partial<PersistedBreaker> | null;
  const time = (t: unknown) => t === null || (typeof t === 'number' && Number.isFinite(t));
  return (
    record !== null &&
    typeof record === 'object' &&
    typeof record.name === 'string' &&
    STATES.has(record.state as string) &&
    typeof record.consecutiveFailures === 'number' &&
    time(record.openedAt) &&
    time(record.reopensAt) &&
    typeof record.savedAt === 'number'
  );
}

/**
 * Keeps breaker states in `<dir>/breakers.json` (the directory is created if needed). Every `save`
 * writes the whole file to a temporary file, syncs it and renames it over the old one, so a crash
 * leaves either the old or the new file. An unreadable file counts as empty.
 */
export function createFileBreakerStore(dir: string): BreakerStore & { readonly path: string } {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, BREAKER_FILE_NAME);
  const breakers = new Map<string, PersistedBreaker>();
  try {
    const file = JSON.parse(readFileSync(path, 'utf8')) as Partial<BreakerFile>;
    for (const [name, record] of Object.entries(file.breakers ?? {})) {
      if (isPersistedBreaker(record) && record.name === name) breakers.set(name, record);
    }
  } catch {
    // missing or unreadable: start empty
  }
  return {
    path,
    load: (name) => {
      const record = breakers.get(name);
      return record ? { ...record } : undefined;
    },
    save(records) {
      for (const record of records) breakers.set(record.name, { ...record });
      const file: BreakerFile = { version: 1, breakers: Object.fromEntries(breakers) };
      writeFileAtomic(path, `${JSON.stringify(file, null, 2)}\n`);
    },
  };
}
