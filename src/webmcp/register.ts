/*
 * The WebMCP surface: registers every bridge tool on the page's model context
 * (`document.modelContext`, or the deprecated `navigator.modelContext`). Browser-safe: this module
 * imports types only, so a page's bundle pulls in no Node-only code through it.
 */
import type { Bridge } from '../bridge/types.js';

/** Surface name given to `bridge.setSurface` while the tools are registered. */
export const WEBMCP_SURFACE = 'webmcp';

/** A WebMCP tool as `registerTool` takes it. */
export interface WebMcpTool {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
  execute(args: Record<string, unknown>): Promise<unknown>;
}

/** The part of a model context (`document.modelContext`) the surface uses. */
export interface ModelContextLike {
  registerTool(tool: WebMcpTool, options?: { signal?: AbortSignal }): unknown;
}

export interface WebMcpRegistration {
  /** Names of the tools registered. */
  readonly tools: readonly string[];
  /**
   * Resolves once every `registerTool` call has settled (the polyfill's is asynchronous); then the
   * bridge's `webmcp` health line passes. Rejects (and unregisters what was registered) when one fails.
   */
  readonly ready: Promise<void>;
  /** Unregisters every tool (aborts their signal) and marks the surface down. Idempotent. */
  stop(): void;
}

/** `document.modelContext`, else `navigator.modelContext`, else undefined. */
export function findModelContext(): ModelContextLike | undefined {
  const g = globalThis as {
    document?: { modelContext?: ModelContextLike };
    navigator?: { modelContext?: ModelContextLike };
  };
  return g.document?.modelContext ?? g.navigator?.modelContext;
}

/**
 * Registers every tool of `bridge` on `modelContext` (default: `findModelContext()`). Each tool's
 * `execute(args)` calls `bridge.callTool(name, args)`: the bridge validates the arguments (WebMCP
 * implementations such as the polyfill do not) and answers `{ success: false, … }` instead of
 * throwing. Throws `TypeError` when no model context is available.
 */
export function registerWebMcpTools(bridge: Bridge, modelContext?: ModelContextLike): WebMcpRegistration {
  const context = modelContext ?? findModelContext();
  if (!context || typeof context.registerTool !== 'function') {
    throw new TypeError(
      'registerWebMcpTools: no model context (document.modelContext / navigator.modelContext); load a WebMCP polyfill first',
    );
  }
  const controller = new AbortController();
  const names: string[] = [];
  const pending: Promise<unknown>[] = [];
  for (const descriptor of bridge.listTools()) {
    const name = descriptor.name;
    const tool: WebMcpTool = {
      name,
      description: descriptor.description,
      inputSchema: descriptor.inputSchema,
      execute: (args) => bridge.callTool(name, args ?? {}),
    };
    names.push(name);
    pending.push(Promise.resolve().then(() => context.registerTool(tool, { signal: controller.signal })));
  }
  let stopped = false;
  let up = false;
  const ready = Promise.all(pending).then(
    () => {
      if (stopped) return;
      up = true;
      bridge.setSurface(WEBMCP_SURFACE, true);
    },
    (error: unknown) => {
      if (stopped) return;
      controller.abort();
      throw error;
    },
  );
  return {
    tools: names,
    ready,
    stop() {
      if (stopped) return;
      stopped = true;
      controller.abort();
      if (up) bridge.setSurface(WEBMCP_SURFACE, false);
    },
  };
}
