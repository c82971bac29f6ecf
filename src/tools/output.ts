/*
 * A code-defined tool's answer as JSON Schema, for MCP's `outputSchema`: either its own fields with
 * `success: true`, or the failure form every tool shares (`isError: true`). Failures are part of the
 * schema because they carry `structuredContent` too, and the 2025-11-25 SDK client (v1) validates
 * `structuredContent` against `outputSchema` whether or not `isError` is set.
 */
import { z } from 'zod';
import { ERROR_CODES } from './result.js';
import type { ToolOutputSchema } from './types.js';

/** The failure form of every code-defined tool's answer (`ToolFailure` without `passthrough`). */
export const toolFailureOutput = z.object({
  success: z.literal(false).describe('The call failed.'),
  error: z.string().describe('What went wrong, in words.'),
  error_code: z.enum(ERROR_CODES).describe('The kind of failure.'),
  field: z
    .string()
    .optional()
    .describe('With INVALID_INPUT: the argument at fault, as a dotted path (`name` for an unknown tool).'),
  retry_after_ms: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe(
      'With CIRCUIT_OPEN, BACKEND_UNAVAILABLE or TIMEOUT: milliseconds before a new call may be admitted.',
    ),
});

function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io: 'output' });
  return rest as Record<string, unknown>;
}

const FAILURE_JSON = jsonSchema(toolFailureOutput);

/**
 * The JSON Schema of every answer of a tool whose result fields are `fields`: root `type: 'object'`
 * (what 2025-11-25 requires) with `oneOf` the success form and the failure form. No `$schema`: the
 * keywords used read the same in draft-07 (the v1 client's Ajv) and 2020-12 (MCP's default dialect).
 * Throws when `fields` has a part JSON Schema cannot express.
 */
export function outputJsonSchemaOf(fields: ToolOutputSchema): Record<string, unknown> {
  const success = jsonSchema(fields.extend({ success: z.literal(true) }));
  return { type: 'object', oneOf: [success, FAILURE_JSON] };
}
