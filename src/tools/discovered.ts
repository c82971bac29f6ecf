/*
 * The source of tools a backend brings (`ToolProvider`: MCP upstreams, WebMCP pages): listed as
 * `<prefix>__<tool>`, filtered by `exposes`, validated against the tool's JSON Schema and called
 * through `provider.callTool(name, args, { signal, onProgress })`. Their results pass through unchanged,
 * and so does their progress.
 */
import type { RemoteCallOptions, RemoteTool, ToolProvider } from '../backends/kind.js';
import { setToolBackend } from '../telemetry/tracing.js';
import { validatorFromJsonSchema } from './json-schema.js';
import { isPassthrough, passthroughResult, type ToolFailure } from './result.js';
import { TOOL_NAME, type ToolEntry, type ToolSource } from './source.js';

/** Separates a backend's prefix from its tool's own name. */
export const DISCOVERED_TOOL_SEPARATOR = '__';

/** The bridge's name of a backend's tool. */
export function discoveredToolName(prefix: string, tool: string): string {
  return `${prefix}${DISCOVERED_TOOL_SEPARATOR}${tool}`;
}

/**
 * A failure of the bridge's (not the backend tool's own) as an MCP error result with no structured
 * content: the tool's `outputSchema` is the backend's, which the failure form does not match, and
 * clients validate structured content against it (the v1 SDK client even when `isError` is set).
 */
function asTextFailure(failure: ToolFailure): ToolFailure {
  if (isPassthrough(failure)) return failure;
  return {
    ...failure,
    passthrough: { content: [{ type: 'text', text: JSON.stringify(failure) }], isError: true },
  };
}

function entryOf(provider: ToolProvider, backend: string, name: string, tool: RemoteTool): ToolEntry {
  const { validator, object } = validatorFromJsonSchema(tool.inputSchema);
  return {
    descriptor: {
      name,
      ...(tool.title === undefined ? {} : { title: tool.title }),
      description: tool.description ?? '',
      ...(tool.annotations === undefined ? {} : { annotations: tool.annotations }),
      inputSchema: tool.inputSchema,
      schema: object,
      ...(tool.outputSchema === undefined ? {} : { outputSchema: tool.outputSchema }),
    },
    ...(tool.outputSchema === undefined ? {} : { failure: asTextFailure }),
    validator,
    async run(args, signal, onProgress) {
      setToolBackend(backend);
      const options: RemoteCallOptions = {};
      if (signal) options.signal = signal;
      // The upstream's own progress (its numbers, and its message or `<tool>: N of M`).
      if (onProgress)
        options.onProgress = ({ progress, total, message }) =>
          onProgress({
            progress,
            message: message ?? `${name}: ${progress}${total === undefined ? '' : ` of ${total}`}`,
            ...(total === undefined ? {} : { total }),
          });
      return passthroughResult(await provider.callTool(tool.name, args, options));
    },
  };
}

/**
 * The tools of `provider` (the backend called `backendName`). The list is rebuilt when the provider
 * says it changed; a down backend's tools stay listed as long as the provider keeps its last list.
 */
export function providerToolSource(backendName: string, provider: ToolProvider): ToolSource {
  const prefix = provider.toolPrefix ?? backendName;
  let cache: { from: readonly RemoteTool[]; entries: ToolEntry[] } | null = null;
  return {
    tools() {
      const remote = provider.listTools();
      if (cache?.from === remote) return cache.entries;
      const entries: ToolEntry[] = [];
      for (const tool of remote) {
        if (provider.exposes && !provider.exposes(tool.name)) continue;
        const name = discoveredToolName(prefix, tool.name);
        if (!TOOL_NAME.test(name)) continue;
        entries.push(entryOf(provider, backendName, name, tool));
      }
      cache = { from: remote, entries };
      return entries;
    },
    onChange(listener) {
      return provider.onToolsChanged(() => {
        cache = null;
        listener();
      });
    },
  };
}
