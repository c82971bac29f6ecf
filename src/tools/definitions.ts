/*
 * The source of tools defined in code: the built-in tools and the host's (`bridge.registerTool`).
 * Each runs its handler with a `ToolContext` the bridge makes for it.
 */
import { z } from 'zod';
import { jsonSchemaOf } from './json-schema.js';
import { outputJsonSchemaOf } from './output.js';
import type { ToolResult } from './result.js';
import { TOOL_NAME, type ToolEntry, type ToolSource } from './source.js';
import type { ToolContext, ToolDefinition, ToolInputSchema, ToolProgress } from './types.js';

/** A source of `ToolDefinition`s that tools can be added to and removed from. */
export interface DefinitionSource extends ToolSource {
  /**
   * Adds a tool. Throws `TypeError` for an invalid definition or when `taken(name)`. Returns a
   * function that removes it.
   */
  add<S extends ToolInputSchema>(tool: ToolDefinition<S>): () => void;
}

export interface DefinitionSourceOptions {
  /**
   * The context a handler runs with, for one call (`signal` aborts when the caller cancels;
   * `onProgress` receives its progress).
   */
  contextFor(
    definition: ToolDefinition,
    signal: AbortSignal | undefined,
    onProgress?: (progress: ToolProgress) => void,
  ): ToolContext;
  /** Whether a name is already used by some tool (of any source). */
  taken(name: string): boolean;
  /** Whether a backend of that name exists (a tool naming an unknown backend is refused). */
  hasBackend(name: string): boolean;
}

/** The listed JSON Schema of a definition's answers; TypeError when JSON Schema cannot express it. */
function outputSchemaOf(definition: ToolDefinition): Record<string, unknown> | undefined {
  if (definition.outputSchema === undefined) return undefined;
  if (!(definition.outputSchema instanceof z.ZodObject))
    throw new TypeError(`registerTool: "${definition.name}".outputSchema must be a zod object`);
  try {
    return outputJsonSchemaOf(definition.outputSchema);
  } catch (error) {
    throw new TypeError(
      `registerTool: "${definition.name}".outputSchema cannot be listed as JSON Schema: ${(error as Error).message}`,
    );
  }
}

const SUCCEEDED = { success: true } as const;

function entryOf(definition: ToolDefinition, options: DefinitionSourceOptions): ToolEntry {
  const outputSchema = outputSchemaOf(definition);
  return {
    descriptor: {
      name: definition.name,
      ...(definition.title === undefined ? {} : { title: definition.title }),
      description: definition.description,
      ...(definition.annotations === undefined ? {} : { annotations: definition.annotations }),
      inputSchema: jsonSchemaOf(definition.inputSchema),
      schema: definition.inputSchema,
      ...(outputSchema === undefined ? {} : { outputSchema }),
    },
    validator: definition.inputSchema as z.ZodType<Record<string, unknown>>,
    async run(args, signal, onProgress): Promise<ToolResult> {
      const result = await definition.handler(args, options.contextFor(definition, signal, onProgress));
      if (result && (result as { success?: unknown }).success === false) {
        const failure = result as Record<string, unknown>;
        return {
          ...failure,
          success: false,
          error: String(failure.error ?? 'tool failed'),
          error_code: (failure.error_code as never) ?? 'EXECUTION_FAILED',
        };
      }
      // Not `{ ...result, success: true }`: V8 (Node 20) takes a slow path to add a property to a
      // spread copy, ~1 µs per call here.
      return Object.assign({}, result, SUCCEEDED);
    },
  };
}

/** Creates the source of code-defined tools. */
export function createDefinitionSource(options: DefinitionSourceOptions): DefinitionSource {
  const entries = new Map<string, ToolEntry>();
  const listeners = new Set<() => void>();
  let list: readonly ToolEntry[] = [];
  const changed = () => {
    list = [...entries.values()];
    for (const listener of [...listeners]) listener();
  };
  return {
    tools: () => list,
    onChange(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    add(tool) {
      if (typeof tool?.name !== 'string' || !TOOL_NAME.test(tool.name))
        throw new TypeError(
          `registerTool: name must be 1-128 characters of [A-Za-z0-9_.-], got ${tool?.name}`,
        );
      if (options.taken(tool.name))
        throw new TypeError(`registerTool: a tool named "${tool.name}" already exists`);
      if (!(tool.inputSchema instanceof z.ZodObject))
        throw new TypeError(`registerTool: "${tool.name}".inputSchema must be a zod object`);
      if (typeof tool.handler !== 'function')
        throw new TypeError(`registerTool: "${tool.name}".handler must be a function`);
      if (tool.backend !== undefined && !options.hasBackend(tool.backend))
        throw new TypeError(`registerTool: "${tool.name}" names an unknown backend "${tool.backend}"`);
      const entry = entryOf(tool as unknown as ToolDefinition, options);
      entries.set(tool.name, entry);
      changed();
      return () => {
        if (entries.get(tool.name) !== entry) return;
        entries.delete(tool.name);
        changed();
      };
    },
  };
}
