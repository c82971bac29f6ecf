/**
 * Node-only: the bridge's data directory. `openPersistence(dir)` gives `createBridge` a breaker store
 * (`<dir>/breakers.json`) and a durable A2A outbox (`<dir>/a2a-outbox.jsonl`).
 */
import type { BridgeConfig } from '../bridge/types.js';
import { createDurableOutbox } from './durable-outbox.js';
import { createFileBreakerStore } from './file-breaker-store.js';
import { ensureDataDir } from './fs.js';
import type { BridgePersistence } from './types.js';

export { followDelivery, outboxOf, replayOutbox, withOutbox } from './a2a.js';
export { persistBreakers, snapshotBreaker } from './breakers.js';
export {
  createDurableOutbox,
  type DurableOutbox,
  type DurableOutboxOptions,
  OUTBOX_FILE_NAME,
  OUTBOX_QUARANTINE_FILE_NAME,
  type OutboxLogContents,
  outboxLogSize,
  readOutboxFile,
  readOutboxLog,
} from './durable-outbox.js';
export { BREAKER_FILE_NAME, createFileBreakerStore } from './file-breaker-store.js';
export { DataDirError, ensureDataDir, type WriteFn, writeFileAtomic, writeFully } from './fs.js';
export type { A2AOutbox, BreakerStore, BridgePersistence, OutboxMessage, PersistedBreaker } from './types.js';

/**
 * Opens the stores of a data directory (created if missing). `close()` releases the outbox log.
 * Throws a `DataDirError` (the directory and the reason) when the directory cannot be written.
 */
export function openPersistence(
  dataDir: string,
  options: { onError?: (error: unknown, what: string) => void } = {},
): BridgePersistence & { close(): void } {
  ensureDataDir(dataDir);
  const breakers = createFileBreakerStore(dataDir);
  const outbox = createDurableOutbox(dataDir);
  return {
    breakers,
    outbox,
    ...(options.onError ? { onError: options.onError } : {}),
    close: () => outbox.close(),
  };
}

/** Bridge configuration that may name a data directory (`dataDir`, `--data-dir`, `MCP_LIFELINE_DATA_DIR`). */
export type PersistentBridgeConfig = BridgeConfig & {
  dataDir?: string;
  persistence?: BridgePersistence;
};

/**
 * `config` with `persistence` opened from `config.dataDir`, ready for `createBridge` /
 * `createNodeBridge`; unchanged when no data directory is set. Call `close()` after `bridge.stop()`.
 */
export function withPersistence(
  config: PersistentBridgeConfig,
  options: { onError?: (error: unknown, what: string) => void } = {},
): { config: PersistentBridgeConfig; close(): void } {
  if (!config.dataDir || config.persistence) return { config, close: () => {} };
  const persistence = openPersistence(config.dataDir, options);
  return { config: { ...config, persistence }, close: persistence.close };
}
