/*
 * The WebMCP surface: registers every bridge tool on the page's model context
 * (`document.modelContext`, or the deprecated `navigator.modelContext`). Browser-safe: this module
 * imports types only, so a page's bundle pulls in no Node-only code through it.
 */
import type { ToolAnnotations } from '../backends/kind.js';
import type { Bridge, ToolDescriptor } from '../bridge/types.js';

/** Surface name given to `bridge.setSurface` while the tools are registered. */
export const WEBMCP_SURFACE = 'webmcp';

/** What a WebMCP implementation passes as `execute`'s second argument (Chromium: `{ signal }`). */
export interface WebMcpExecuteContext {
  /** Aborted when the agent cancels the call (the polyfill passes no context at all). */
  signal?: AbortSignal;
}

/** The annotations WebMCP's tool dictionary knows (`readOnlyHint`, `untrustedContentHint`). */
export interface WebMcpToolAnnotations {
  readOnlyHint?: boolean;
  untrustedContentHint?: boolean;
}

/** A WebMCP tool as `registerTool` takes it. */
export interface WebMcpTool {
  name: string;
  /** A human-readable name for listings. */
  title?: string;
  description: string;
  inputSchema: Record<string, unknown>;
  annotations?: WebMcpToolAnnotations;
  execute(args: Record<string, unknown>, context?: WebMcpExecuteContext): Promise<unknown>;
}

/**
 * Titles and annotations of the built-in tools, for a bridge whose `ToolDescriptor`s do not carry
 * them (yet): a descriptor's own `title` / `annotations` always win.
 */
export const BUILT_IN_TOOL_HINTS: Readonly<Record<string, { title: string; annotations: ToolAnnotations }>> =
  Object.freeze({
    get_os_state: { title: 'Bridge state', annotations: { readOnlyHint: true } },
    reliability_get_status: { title: 'Reliability status', annotations: { readOnlyHint: true } },
  });

/** The WebMCP annotations of a bridge tool: its descriptor's, else the built-in table's. */
export function webMcpAnnotationsOf(descriptor: ToolDescriptor): WebMcpToolAnnotations | undefined {
  const source = descriptor.annotations ?? BUILT_IN_TOOL_HINTS[descriptor.name]?.annotations;
  if (!source) return undefined;
  const annotations: WebMcpToolAnnotations = {};
  if (source.readOnlyHint !== undefined) annotations.readOnlyHint = source.readOnlyHint;
  if (source.untrustedContentHint !== undefined)
    annotations.untrustedContentHint = source.untrustedContentHint;
  return Object.keys(annotations).length > 0 ? annotations : undefined;
}

/** The WebMCP tool for one bridge tool: `execute` runs `bridge.callTool` with the caller's signal. */
export function toWebMcpTool(bridge: Bridge, descriptor: ToolDescriptor): WebMcpTool {
  const name = descriptor.name;
  const title = descriptor.title ?? BUILT_IN_TOOL_HINTS[name]?.title;
  const annotations = webMcpAnnotationsOf(descriptor);
  return {
    name,
    ...(title ? { title } : {}),
    description: descriptor.description,
    inputSchema: descriptor.inputSchema,
    ...(annotations ? { annotations } : {}),
    execute: (args, context) => {
      const signal = context?.signal;
      return bridge.callTool(name, args ?? {}, signal ? { signal } : {});
    },
  };
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
 * Registers every tool of `bridge` on `modelContext` (default: `findModelContext()`), with its
 * `title` and `annotations` (`readOnlyHint` for the read-only tools). Each tool's
 * `execute(args, { signal })` calls `bridge.callTool(name, args, { signal })`: the agent cancelling
 * the call (Chromium aborts that signal) cancels the bridge's call; the bridge validates the
 * arguments (WebMCP implementations such as the polyfill do not) and answers `{ success: false, … }`
 * instead of throwing. Throws `TypeError` when no model context is available.
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
    const tool = toWebMcpTool(bridge, descriptor);
    names.push(tool.name);
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
