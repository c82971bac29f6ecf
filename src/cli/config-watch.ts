/*
 * Hot reload for `serve`: watches the config file (its directory, so that editors that save by
 * writing a new file and renaming it are seen too), waits for the writes to settle (`debounceMs`),
 * and when the file's text changed, loads it again and hands the result to `apply`
 * (`bridge.reconfigure`). An invalid edit is reported in one line naming the field and the running
 * configuration stays. Node-only.
 */
import { type FSWatcher, readFileSync, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { ReconfigureResult } from '../bridge/types.js';
import { type Clock, systemClock } from '../clock.js';
import type { LoadedConfig } from '../config.js';

export interface ConfigWatchOptions {
  /** Absolute path of the config file. */
  file: string;
  /** Reads and validates the configuration again (throws `ConfigError` naming the field). */
  load: () => LoadedConfig;
  /** The configuration running now (to tell which restart-only settings an edit changed). */
  initial?: LoadedConfig;
  /** Applies a valid configuration (`bridge.reconfigure`). */
  apply: (config: LoadedConfig) => Promise<ReconfigureResult>;
  /** One line per reload or rejected edit (stderr in `serve`). */
  log: (line: string) => void;
  /** How long the file must stay quiet before it is read. Default 100 ms. */
  debounceMs?: number;
  clock?: Clock;
}

export interface ConfigWatch {
  /** Stops watching; a reload in progress completes. */
  close(): void;
  /** Resolves once the reloads started so far are done (tests). */
  idle(): Promise<void>;
}

function readText(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** Settings a reload cannot apply to a running bridge (only `backends` are reloaded). */
const RESTART_ONLY = [
  'healthCheckIntervalMs',
  'healthCheckJitter',
  'surface',
  'maxPromptChars',
  'agentId',
  'dataDir',
] as const;

/** The restart-only settings whose value differs between two loads. */
export function restartOnlyChanges(before: LoadedConfig, after: LoadedConfig): string[] {
  return RESTART_ONLY.filter((key) => JSON.stringify(before[key]) !== JSON.stringify(after[key]));
}

function summary(result: ReconfigureResult): string {
  const parts = (['added', 'removed', 'restarted'] as const)
    .filter((key) => result[key].length > 0)
    .map((key) => `${key} ${result[key].join(', ')}`);
  return parts.length > 0 ? parts.join('; ') : 'no backend changed';
}

/** Starts watching `options.file`. */
export function watchConfigFile(options: ConfigWatchOptions): ConfigWatch {
  const clock = options.clock ?? systemClock;
  const debounceMs = options.debounceMs ?? 100;
  const name = basename(options.file);
  let lastText = readText(options.file);
  let lastConfig: LoadedConfig | undefined = options.initial;
  let timer: unknown;
  let closed = false;
  let running: Promise<void> = Promise.resolve();

  const reload = async () => {
    const text = readText(options.file);
    if (text === null || text === lastText) return; // deleted mid-save, or saved unchanged
    lastText = text;
    let config: LoadedConfig;
    try {
      config = options.load();
    } catch (error) {
      options.log(
        `config change rejected, keeping the running configuration: ${error instanceof Error ? error.message : String(error)}`,
      );
      return;
    }
    const pending = lastConfig ? restartOnlyChanges(lastConfig, config) : [];
    lastConfig = config;
    if (pending.length > 0)
      options.log(`${pending.join(', ')} changed: restart serve to apply (a reload applies backends only)`);
    try {
      options.log(`config reloaded: ${summary(await options.apply(config))}`);
    } catch (error) {
      options.log(`config change rejected: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  const schedule = () => {
    if (closed) return;
    if (timer !== undefined) clock.clearTimeout(timer);
    timer = clock.setTimeout(() => {
      timer = undefined;
      running = running.then(reload);
    }, debounceMs);
  };

  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(options.file), (_event, changed) => {
      if (changed === null || changed.toString() === name) schedule();
    });
    watcher.on('error', () => {});
  } catch (error) {
    options.log(`cannot watch ${options.file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  return {
    close() {
      closed = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      watcher?.close();
    },
    idle: () => running,
  };
}
