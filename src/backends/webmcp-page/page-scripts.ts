/*
 * The JavaScript the backend runs inside the tab, as source text (`page.evaluate(string)`): a
 * function's own source would carry whatever helpers the TypeScript transform added (`__name`, …),
 * which the page does not have. Everything these scripts keep in the page hangs off
 * `Symbol.for('mcp-lifeline…')` keys, out of the way of the page's own globals.
 */

/** A tool as the page's `document.modelContext.getTools()` describes it, copied field by field. */
export interface PageTool {
  name: string;
  title: string;
  description: string;
  /** An object (Chromium ≥ 154) or a JSON string (older Chromium). */
  inputSchema: Record<string, unknown> | string | null;
  annotations: Record<string, unknown> | null;
  origin: string;
}

/** How one call went inside the page. */
export type PageCallOutcome =
  /** `executeTool` resolved: the tool's result as Chromium serialises it (JSON text, or a plain string). */
  | { kind: 'result'; result: string | null; annotations: Record<string, unknown> | null }
  /** The tool threw, or `executeTool` rejected. */
  | { kind: 'error'; name: string; message: string; aborted: boolean }
  /** No tool of that name in the document (yet). */
  | { kind: 'missing' }
  /** The tool is not marked readOnlyHint and the call required it. */
  | { kind: 'refused' }
  /** The document has no `document.modelContext` (WebMCP off, or an insecure origin). */
  | { kind: 'no-model-context' };

const call = (fn: string, arg: unknown) => `(${fn})(${JSON.stringify(arg)})`;

/** Lists the document's tools from `origin` (copies: a RegisteredTool's `window` cannot be serialised). */
export function listToolsScript(origin: string): string {
  return call(
    `async (origin) => {
      const context = document.modelContext;
      if (!context || typeof context.getTools !== 'function') return null;
      const tools = await context.getTools();
      return tools.filter((tool) => tool.origin === origin).map((tool) => ({
        name: String(tool.name),
        title: typeof tool.title === 'string' ? tool.title : '',
        description: typeof tool.description === 'string' ? tool.description : '',
        inputSchema: tool.inputSchema === undefined ? null : tool.inputSchema,
        annotations: tool.annotations ? { ...tool.annotations } : null,
        origin: String(tool.origin),
      }));
    }`,
    origin,
  );
}

/**
 * Follows `toolchange` on the document's model context by calling the exposed binding `binding`.
 * Installed once per document (run as an init script for later documents, and evaluated in the
 * current one).
 */
export function toolChangeListenerScript(binding: string): string {
  return call(
    `(binding) => {
      const key = Symbol.for('mcp-lifeline.toolchange.' + binding);
      const context = document.modelContext;
      if (!context || typeof context.addEventListener !== 'function' || globalThis[key]) return false;
      globalThis[key] = true;
      context.addEventListener('toolchange', () => {
        try { globalThis[binding]?.(); } catch {}
      });
      return true;
    }`,
    binding,
  );
}

/**
 * Runs one tool with `executeTool(tool, input, { signal })` (the input as an object). With
 * `requireReadOnly`, refuses a tool whose current registration is not marked readOnlyHint — checked
 * here, against the registration the call will use, not against an older listing.
 */
export function callToolScript(args: {
  id: string;
  name: string;
  origin: string;
  input: Record<string, unknown>;
  requireReadOnly: boolean;
}): string {
  return call(
    `async ({ id, name, origin, input, requireReadOnly }) => {
      const context = document.modelContext;
      if (!context || typeof context.executeTool !== 'function') return { kind: 'no-model-context' };
      const tool = (await context.getTools()).find((t) => t.name === name && t.origin === origin);
      if (!tool) return { kind: 'missing' };
      if (requireReadOnly && !(tool.annotations && tool.annotations.readOnlyHint === true)) return { kind: 'refused' };
      const calls = (globalThis[Symbol.for('mcp-lifeline.calls')] ??= new Map());
      const controller = new AbortController();
      calls.set(id, controller);
      try {
        const result = await context.executeTool(tool, input, { signal: controller.signal });
        return {
          kind: 'result',
          result: result === undefined || result === null ? null : String(result),
          annotations: tool.annotations ? { ...tool.annotations } : null,
        };
      } catch (error) {
        return {
          kind: 'error',
          name: String((error && error.name) || 'Error'),
          message: String((error && error.message) || error),
          aborted: controller.signal.aborted,
        };
      } finally {
        calls.delete(id);
      }
    }`,
    args,
  );
}

/** Aborts the call `id` in the page (its `executeTool` signal). */
export function abortCallScript(id: string): string {
  return call(
    `(id) => {
      const calls = globalThis[Symbol.for('mcp-lifeline.calls')];
      const controller = calls && calls.get(id);
      if (controller) controller.abort(new DOMException('cancelled by the bridge', 'AbortError'));
      return Boolean(controller);
    }`,
    id,
  );
}
