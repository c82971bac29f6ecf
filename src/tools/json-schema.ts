/*
 * Tool argument schemas as JSON Schema, both ways: the listing of a zod schema, and a zod validator
 * for a JSON Schema that a backend gave (zod 4's `z.fromJSONSchema`).
 */
import { z } from 'zod';
import type { ToolInputSchema } from './types.js';

/** The JSON Schema a zod object lists as (its input side); `{ type: 'object' }` when it has none. */
export function jsonSchemaOf(schema: ToolInputSchema): Record<string, unknown> {
  try {
    return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  } catch {
    return { type: 'object' };
  }
}

/** A zod validator for a backend tool's JSON Schema, and the zod object a descriptor lists. */
export interface JsonSchemaValidator {
  /** Validates the arguments; issue paths name the field at fault. */
  validator: z.ZodType<Record<string, unknown>>;
  /** The validator when it is an object schema, else a permissive object. */
  object: ToolInputSchema;
}

const ANY_OBJECT = z.looseObject({});

/**
 * A validator for `schema` (a JSON Schema object). Falls back to "any object" when zod cannot
 * convert the schema (an unsupported keyword or a `$ref` it cannot resolve): the backend still
 * validates its own arguments.
 */
export function validatorFromJsonSchema(schema: Record<string, unknown>): JsonSchemaValidator {
  try {
    const converted = z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]);
    const object = converted instanceof z.ZodObject ? (converted as ToolInputSchema) : ANY_OBJECT;
    return { validator: converted as z.ZodType<Record<string, unknown>>, object };
  } catch {
    return { validator: ANY_OBJECT as z.ZodType<Record<string, unknown>>, object: ANY_OBJECT };
  }
}
