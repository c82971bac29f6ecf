/*
 * The last known tool list of an MCP upstream, kept in `<dataDir>/mcp-tools/<backend>.json` so the
 * bridge lists the tools of a server that is down — also right after the bridge itself restarted.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RemoteTool } from '../kind.js';

/** Reads and writes one backend's saved tool list; without a data directory it keeps nothing. */
export interface ToolCache {
  load(): RemoteTool[];
  save(tools: RemoteTool[]): void;
}

/** A cache in `dataDir` (none when `dataDir` is undefined). Errors are reported to `onError`, never thrown. */
export function createToolCache(
  dataDir: string | undefined,
  backend: string,
  onError: (message: string) => void,
): ToolCache {
  if (dataDir === undefined) return { load: () => [], save: () => {} };
  const dir = join(dataDir, 'mcp-tools');
  const file = join(dir, `${encodeURIComponent(backend)}.json`);
  return {
    load() {
      try {
        const parsed = JSON.parse(readFileSync(file, 'utf8')) as { tools?: unknown };
        return Array.isArray(parsed.tools) ? (parsed.tools as RemoteTool[]) : [];
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
          onError(`cannot read ${file}: ${String(error)}`);
        return [];
      }
    },
    save(tools) {
      try {
        mkdirSync(dir, { recursive: true });
        const temporary = `${file}.${process.pid}.tmp`;
        writeFileSync(temporary, JSON.stringify({ tools }));
        renameSync(temporary, file);
      } catch (error) {
        onError(`cannot write ${file}: ${String(error)}`);
      }
    },
  };
}
