/*
 * The tool registry: merges every `ToolSource` into one list and owns listing, argument validation,
 * call counting, cancellation and `call`. Sources are plug-ins (code-defined tools, backends that
 * provide tools); a name offered by two sources goes to the one added first.
 */
import { unwatchAbort, watchAbort } from '../reliability/abort-watch.js';
import { traceToolCall } from '../telemetry/tracing.js';
import { cancelled, invalidInput, toolFailure } from './errors.js';
import { safeParse } from './parse.js';
import type { ToolFailure, ToolResult } from './result.js';
import type { ToolEntry, ToolSource } from './source.js';
import type { CallToolOptions, ToolCallStats, ToolDescriptor } from './types.js';

export interface ToolRegistry {
  /** Adds a source; its tools are listed at once. Returns a function that removes it. */
  addSource(source: ToolSource): () => void;
  list(): ToolDescriptor[];
  names(): string[];
  has(name: string): boolean;
  /**
   * Validates `args` and runs the tool; never rejects. Aborting `options.signal` answers
   * `CANCELLED` at once (the tool's own work is told through its signal).
   */
  call(name: string, args: unknown, options?: CallToolOptions): Promise<ToolResult>;
  stats(): ToolCallStats;
  /** Called whenever the list may have changed. Returns an unsubscribe function. */
  onChange(listener: () => void): () => void;
}

const CANCEL = Symbol('cancelled');

/**
 * Settles with `CANCEL` as soon as `signal` aborts, else as `pending` does. A watcher, not a listener:
 * a signal of its own per call gets one listener and no removal; one shared by many calls, one in all.
 */
function untilAborted<T>(pending: Promise<T>, signal: AbortSignal): Promise<T | typeof CANCEL> {
  return new Promise<T | typeof CANCEL>((resolve, reject) => {
    const watch = watchAbort(signal, () => resolve(CANCEL));
    pending.then(
      (value) => {
        unwatchAbort(signal, watch);
        resolve(value);
      },
      (error: unknown) => {
        unwatchAbort(signal, watch);
        reject(error);
      },
    );
  });
}

/** Creates an empty registry. */
export function createToolRegistry(): ToolRegistry {
  const sources: { source: ToolSource; unsubscribe: () => void }[] = [];
  const listeners = new Set<() => void>();
  let byName: Map<string, ToolEntry> | null = null;
  let totalCalls = 0;
  const callBreakdown: Record<string, number> = {};
  const failureBreakdown: Record<string, number> = {};

  const entries = (): Map<string, ToolEntry> => {
    if (byName) return byName;
    const merged = new Map<string, ToolEntry>();
    for (const { source } of sources)
      for (const entry of source.tools())
        if (!merged.has(entry.descriptor.name)) merged.set(entry.descriptor.name, entry);
    byName = merged;
    return merged;
  };
  const changed = () => {
    byName = null;
    for (const listener of [...listeners]) listener();
  };

  const failed = (entry: ToolEntry, name: string, result: ToolFailure): ToolFailure => {
    failureBreakdown[name] = (failureBreakdown[name] ?? 0) + 1;
    return entry.failure ? entry.failure(result) : result;
  };
  const call = (name: string, args: unknown, options?: CallToolOptions): Promise<ToolResult> => {
    const entry = typeof name === 'string' ? entries().get(name) : undefined;
    if (!entry) {
      return Promise.resolve({
        success: false,
        error: `Unknown tool "${String(name)}"; known tools: ${[...entries().keys()].join(', ')}`,
        error_code: 'INVALID_INPUT',
        field: 'name',
      });
    }
    return traceToolCall(name, options ?? {}, () =>
      run(entry, name, args, options?.signal, options?.onProgress),
    );
  };
  const run = async (
    entry: ToolEntry,
    name: string,
    args: unknown,
    signal: AbortSignal | undefined,
    onProgress: CallToolOptions['onProgress'],
  ): Promise<ToolResult> => {
    totalCalls++;
    callBreakdown[name] = (callBreakdown[name] ?? 0) + 1;
    if (signal?.aborted) return failed(entry, name, cancelled(signal));
    const parsed = safeParse(entry.validator, args ?? {});
    if (!parsed.success) return failed(entry, name, invalidInput(parsed.error));
    try {
      const pending = entry.run(parsed.data, signal, onProgress);
      const result = signal ? await untilAborted(pending, signal) : await pending;
      if (result === CANCEL) {
        pending.catch(() => {}); // settles later, unobserved
        return failed(entry, name, cancelled(signal as AbortSignal));
      }
      return result.success ? result : failed(entry, name, result);
    } catch (error) {
      return failed(entry, name, signal?.aborted ? cancelled(signal) : toolFailure(error));
    }
  };

  return {
    addSource(source) {
      const record = { source, unsubscribe: source.onChange(changed) };
      sources.push(record);
      changed();
      return () => {
        const index = sources.indexOf(record);
        if (index < 0) return;
        sources.splice(index, 1);
        record.unsubscribe();
        changed();
      };
    },
    list: () => [...entries().values()].map((entry) => entry.descriptor),
    names: () => [...entries().keys()],
    has: (name) => entries().has(name),
    call,
    stats: () => ({
      totalCalls,
      callBreakdown: { ...callBreakdown },
      failureBreakdown: { ...failureBreakdown },
    }),
    onChange(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
  };
}
