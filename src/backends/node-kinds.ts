/*
 * Node-only: every backend kind the Node side knows without being told — the built-in `websocket`
 * and `http` kinds plus `mcp` (child processes, Streamable HTTP) and `webmcp-page` (playwright-core,
 * loaded lazily on first attach). `loadConfig`, `createNodeBridge` and the CLI use these; the browser
 * entry (`src/index.ts`) never imports this file, so neither `child_process` nor playwright reaches a
 * browser bundle.
 */
import type { AnyBackendKindPlugin } from './kind.js';
import { mcpKind } from './mcp/index.js';
import { webmcpPageKind } from './webmcp-page/index.js';

/** The plug-in kinds Node adds to the built-in ones: `mcp` and `webmcp-page`. */
export function nodeKinds(): AnyBackendKindPlugin[] {
  return [mcpKind, webmcpPageKind];
}

/** `nodeKinds()` followed by `extra` (a later kind of the same name replaces an earlier one). */
export function withNodeKinds(extra: readonly AnyBackendKindPlugin[] | undefined): AnyBackendKindPlugin[] {
  return [...nodeKinds(), ...(extra ?? [])];
}
