/*
 * The WebMCP surface: registers every bridge tool on the page's model context
 * (`document.modelContext`, or the deprecated `navigator.modelContext`). Browser-safe: this module
 * imports types only, so a page's bundle pulls in no Node-only code through it.
 */
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

/** The WebMCP annotations of a bridge tool: its descriptor's, reduced to the hints WebMCP knows. */
export function webMcpAnnotationsOf(descriptor: ToolDescriptor): WebMcpToolAnnotations | undefined {
  const source = descriptor.annotations;
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
  const title = descriptor.title;
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
  /** Names of the tools registered now (it follows the bridge's list). */
  readonly tools: readonly string[];
  /**
   * Resolves once every `registerTool` call has settled (the polyfill's is asynchronous); then the
   * bridge's `webmcp` health line passes. Rejects (and unregisters what was registered) when one fails.
   */
  readonly ready: Promise<void>;
  /** Resolves once the registrations and unregistrations started so far have settled. */
  settled(): Promise<void>;
  /** Unregisters every tool (aborts their signal), stops following the bridge, marks the surface down. Idempotent. */
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

/** What a registered tool was registered from: a changed descriptor is registered again. */
function fingerprint(descriptor: ToolDescriptor): string {
  const { schema: _zod, ...rest } = descriptor as ToolDescriptor & { schema?: unknown };
  return JSON.stringify(rest);
}

/**
 * Registers every tool of `bridge` on `modelContext` (default: `findModelContext()`), with its
 * `title` and `annotations` (`readOnlyHint` for the read-only tools), and follows the bridge's list
 * (`bridge.onToolsChanged`): tools that appear later (discovered from an MCP upstream or a WebMCP
 * page, registered by the host, added by a config reload) are registered, removed ones unregistered
 * by aborting their own signal, changed ones registered again. Each tool's
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
  const registered = new Map<string, { controller: AbortController; fingerprint: string }>();
  let stopped = false;
  let up = false;
  let inFlight: Promise<unknown> = Promise.resolve();

  const unregister = (name: string) => {
    registered.get(name)?.controller.abort();
    registered.delete(name);
  };
  /** Registers what is new or changed and unregisters what left; resolves when the calls settled. */
  const sync = (): Promise<unknown> => {
    const current = new Map(bridge.listTools().map((descriptor) => [descriptor.name, descriptor]));
    for (const name of [...registered.keys()]) if (!current.has(name)) unregister(name);
    const pending: Promise<unknown>[] = [];
    for (const [name, descriptor] of current) {
      const print = fingerprint(descriptor);
      if (registered.get(name)?.fingerprint === print) continue;
      unregister(name);
      const controller = new AbortController();
      registered.set(name, { controller, fingerprint: print });
      const tool = toWebMcpTool(bridge, descriptor);
      pending.push(Promise.resolve().then(() => context.registerTool(tool, { signal: controller.signal })));
    }
    return Promise.all(pending);
  };
  const stopAll = () => {
    for (const name of [...registered.keys()]) unregister(name);
  };

  const ready = sync().then(
    () => {
      if (stopped) return;
      up = true;
      bridge.setSurface(WEBMCP_SURFACE, true);
    },
    (error: unknown) => {
      if (stopped) return;
      stopAll();
      throw error;
    },
  );
  inFlight = ready.catch(() => {});
  const unsubscribe = bridge.onToolsChanged(() => {
    if (stopped) return;
    const change = sync();
    inFlight = Promise.all([inFlight, change.catch(() => {})]);
  });
  return {
    get tools() {
      return [...registered.keys()];
    },
    ready,
    settled: async () => {
      await inFlight;
    },
    stop() {
      if (stopped) return;
      stopped = true;
      unsubscribe();
      stopAll();
      if (up) bridge.setSurface(WEBMCP_SURFACE, false);
    },
  };
}
