/*
 * A backend's reply checked before a tool reads it: a tool answers with what its `outputSchema`
 * promises, so a malformed reply is the tool's failure (EXECUTION_FAILED naming the field), not a
 * malformed answer.
 */
import type { z } from 'zod';
import { fieldPath, ToolExecutionError } from './errors.js';
import { safeParse } from './parse.js';

/** `reply` parsed with `schema`; throws `ToolExecutionError` naming the first field at fault. */
export function parseReply<T>(schema: z.ZodType<T>, reply: unknown, what: string): T {
  const parsed = safeParse(schema, reply);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue && issue.path.length > 0 ? fieldPath(issue.path) : '(reply)';
  throw new ToolExecutionError(`${what} is malformed: ${field}: ${issue?.message ?? 'invalid'}`);
}
