import type { AnyActorRef } from 'xstate';
import type { z } from 'zod';
import type { BackendHealth, HealthStatus } from '../backends/types.js';

export interface HealthReport {
  status: HealthStatus;
  /** ISO time of the report. */
  checkedAt: string;
  backends: Record<string, BackendHealth>;
}

export type ErrorCode =
  | 'INVALID_INPUT'
  | 'BACKEND_UNAVAILABLE'
  | 'CIRCUIT_OPEN'
  | 'TIMEOUT'
  | 'QUEUE_FULL'
  | 'EXECUTION_FAILED'
  | 'UNKNOWN_TOOL';

/** A tool's answer: its own fields on success, or `{ success: false, error, error_code }`. */
export type ToolResult =
  | ({ success: true } & Record<string, unknown>)
  | { success: false; error: string; error_code: ErrorCode; field?: string };

/** A tool as the surfaces (WebMCP, MCP) see it. */
export interface ToolDescriptor {
  name: string;
  description: string;
  /** JSON Schema of the arguments (for WebMCP and listings). */
  inputSchema: Record<string, unknown>;
  /** The zod object the arguments are validated with (MCP's registerTool takes its `.shape`). */
  schema: z.ZodObject<z.ZodRawShape>;
}

export type HealthListener = (report: HealthReport, previous: HealthReport) => void;

export interface Bridge {
  start(): Promise<void>;
  stop(): Promise<void>;
  health(): HealthReport;
  /** Fires only when some backend's `status`, `state` or `breaker` changed, never for an idle tick. */
  onHealthChange(listener: HealthListener): () => void;
  listTools(): ToolDescriptor[];
  /** Validates `args` and runs the tool; never rejects: failures come back as `{ success: false, … }`. */
  callTool(name: string, args: unknown): Promise<ToolResult>;
  /** The orchestrator actor. */
  readonly actor: AnyActorRef;
}
