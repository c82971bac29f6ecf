/*
 * The tool-source plug-in contract: a source (built-in and host tools, a backend that provides
 * tools, …) offers entries; the registry merges every source into one list. Imports: types only.
 */
import type { z } from 'zod';
import type { ToolFailure, ToolResult } from './result.js';
import type { ToolDescriptor, ToolProgress } from './types.js';

/** One tool as a source offers it: its listing, how its arguments are checked, and how it runs. */
export interface ToolEntry {
  readonly descriptor: ToolDescriptor;
  /** Validates the arguments (issue paths name the field at fault); `run` gets the parsed value. */
  readonly validator: z.ZodType<Record<string, unknown>>;
  /**
   * Runs the tool. `signal` (when the caller gave one) aborts when the caller cancels; `onProgress`
   * (when the caller gave one) receives the call's progress. Resolves with the tool's answer; a
   * rejection becomes `{ success: false, error_code }` (see `errorCodeOf`).
   */
  run(
    args: Record<string, unknown>,
    signal: AbortSignal | undefined,
    onProgress?: (progress: ToolProgress) => void,
  ): Promise<ToolResult>;
  /**
   * How a failure the bridge answers for this tool (bad arguments, an open circuit, a cancelled
   * call…) is given to callers, when not as it is: a tool whose listed `outputSchema` is a backend's
   * own answers its failures as text only, since the failure form does not match that schema.
   */
  failure?(failure: ToolFailure): ToolFailure;
}

/** Where tools come from. */
export interface ToolSource {
  /** The tools now (the registry caches the list until `onChange` fires). */
  tools(): readonly ToolEntry[];
  /** Called whenever `tools()` may have changed. Returns an unsubscribe function. */
  onChange(listener: () => void): () => void;
}

/** Tool names WebMCP and MCP accept. */
export const TOOL_NAME = /^[A-Za-z0-9_.-]{1,128}$/;
