/*
 * `schema.safeParse(value)` with a shortcut for the values it accepts. A zod schema stays the one
 * definition of what a tool takes and what a backend's reply must hold; from it a plain function is
 * built once, for the kinds of schema the tools use (objects, strings, numbers, booleans, enums,
 * literals, arrays, tuples, optional, nullable, default, unknown), that returns what zod would for a
 * value it accepts. Anything it is not sure of (a failed check, an `undefined` where zod has rules of
 * its own, a schema kind or check it does not know) goes to zod itself, so a failure is always zod's
 * (the field named). Why: zod runs a generic step per field and check, on every call; the split table
 * of `bench/bridge-split.ts` times `send_llm_prompt`'s arguments both ways ("validation" rows).
 * Tested against zod on generated values (test/parse-shortcut.test.ts).
 */
import { z } from 'zod';

/** What a shortcut returns for a value it cannot vouch for (zod answers then). */
export const UNSURE: unique symbol = Symbol('unsure');
/** A schema's shortcut: what zod's `data` would be for `value`, or {@link UNSURE}. */
export type Shortcut = (value: unknown) => unknown;

/** The parts of zod's internals the compiler reads (zod 4). */
interface Internals {
  _zod: {
    def: Record<string, unknown> & { type: string; checks?: { _zod: { def: CheckDef } }[] };
    values?: Set<unknown>;
  };
}
type CheckDef = Record<string, unknown> & { check: string; when?: unknown };

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * zod's own `when` of length checks (run them on values that have a length), one function for all:
 * a check with it runs on every string and array; one with a `when` of the user's is not covered.
 */
const lengthWhen = (z.string().min(0) as unknown as Internals)._zod.def.checks?.[0]?._zod.def.when;

/** The checks of a string or array (lengths only), or undefined when there is another kind. */
function lengthChecks(checks: CheckDef[]): ((length: number) => boolean) | undefined {
  let min = 0;
  let max = Number.POSITIVE_INFINITY;
  for (const check of checks) {
    if (check.when !== undefined && check.when !== lengthWhen) return undefined;
    if (check.check === 'min_length' && typeof check.minimum === 'number') min = Math.max(min, check.minimum);
    else if (check.check === 'max_length' && typeof check.maximum === 'number')
      max = Math.min(max, check.maximum);
    else return undefined;
  }
  return (length) => length >= min && length <= max;
}

/** The checks of a number (bounds, safe integer), or undefined when there is another kind. */
function numberChecks(checks: CheckDef[]): ((value: number) => boolean) | undefined {
  const tests: ((value: number) => boolean)[] = [];
  for (const check of checks) {
    if (check.when !== undefined) return undefined;
    const { value: bound, inclusive } = check;
    if (check.check === 'greater_than' && typeof bound === 'number')
      tests.push(inclusive ? (v) => v >= bound : (v) => v > bound);
    else if (check.check === 'less_than' && typeof bound === 'number')
      tests.push(inclusive ? (v) => v <= bound : (v) => v < bound);
    else if (check.check === 'number_format' && check.format === 'safeint') tests.push(Number.isSafeInteger);
    else return undefined;
  }
  return (value) => tests.every((test) => test(value));
}

/** A property of an object schema: how an absent key is read, and the check of a present value. */
interface Property {
  key: string;
  /** For an absent key: omit it, or use the default. */
  absent: 'omit' | 'default' | 'unsure';
  defaultOf?: () => unknown;
  check: Shortcut;
}

/** Schemas being compiled: one met again inside itself (a getter in a shape) is recursive. */
const compiling = new Set<Internals>();

/**
 * Compiles one schema node; undefined when the node (or one inside it) is of a kind not covered, or
 * contains itself (zod answers for recursive schemas).
 */
function compile(schema: Internals): Shortcut | undefined {
  if (compiling.has(schema)) return undefined;
  compiling.add(schema);
  try {
    return compileNode(schema);
  } finally {
    compiling.delete(schema);
  }
}

function compileNode(schema: Internals): Shortcut | undefined {
  const def = schema._zod.def;
  const checks = (def.checks ?? []).map((check) => check._zod.def);
  if (def.coerce) return undefined;
  switch (def.type) {
    case 'string': {
      const ok = lengthChecks(checks);
      if (!ok) return undefined;
      return (value) => (typeof value === 'string' && ok(value.length) ? value : UNSURE);
    }
    case 'number': {
      const ok = numberChecks(checks);
      if (!ok) return undefined;
      return (value) => (typeof value === 'number' && Number.isFinite(value) && ok(value) ? value : UNSURE);
    }
    case 'boolean':
      return checks.length ? undefined : (value) => (typeof value === 'boolean' ? value : UNSURE);
    case 'unknown':
    case 'any':
      return checks.length ? undefined : (value) => (value === undefined ? UNSURE : value);
    case 'enum':
    case 'literal': {
      const values = schema._zod.values;
      if (!values || checks.length) return undefined;
      return (value) => (value !== undefined && values.has(value) ? value : UNSURE);
    }
    case 'nullable': {
      const inner = compile(def.innerType as Internals);
      if (!inner || checks.length) return undefined;
      return (value) => (value === null ? null : inner(value));
    }
    case 'optional': {
      // Only where an object reads it: an absent key is omitted; a present `undefined` goes to zod.
      const inner = innerOf(def);
      if (!inner || checks.length) return undefined;
      return (value) => (value === undefined ? UNSURE : inner(value));
    }
    case 'default': {
      const inner = innerOf(def);
      if (!inner || checks.length) return undefined;
      return (value) => (value === undefined ? def.defaultValue : inner(value));
    }
    case 'array': {
      const element = compile(def.element as Internals);
      const ok = lengthChecks(checks);
      if (!element || !ok) return undefined;
      return (value) => {
        if (!Array.isArray(value) || !ok(value.length)) return UNSURE;
        const out = new Array<unknown>(value.length);
        for (let i = 0; i < value.length; i++) {
          const item = element(value[i]);
          if (item === UNSURE) return UNSURE;
          out[i] = item;
        }
        return out;
      };
    }
    case 'tuple': {
      const items = (def.items as Internals[]).map(compile);
      const rest = def.rest ? compile(def.rest as Internals) : null;
      if (checks.length || rest === undefined || items.some((item) => item === undefined)) return undefined;
      const fixed = items as Shortcut[];
      return (value) => {
        if (!Array.isArray(value) || value.length < fixed.length) return UNSURE;
        if (!rest && value.length > fixed.length) return UNSURE;
        const out = new Array<unknown>(value.length);
        for (let i = 0; i < value.length; i++) {
          const item = (i < fixed.length ? (fixed[i] as Shortcut) : (rest as Shortcut))(value[i]);
          if (item === UNSURE) return UNSURE;
          out[i] = item;
        }
        return out;
      };
    }
    case 'object':
      return compileObject(def, checks);
    default:
      return undefined;
  }
}

/** The inner schema of `optional` or `default`, compiled; not when it is itself one of those. */
function innerOf(def: Record<string, unknown>): Shortcut | undefined {
  const inner = def.innerType as Internals;
  const type = inner._zod.def.type;
  if (type === 'optional' || type === 'default' || type === 'prefault') return undefined;
  return compile(inner);
}

/** `z.object` (unknown keys stripped): keys in the shape's order, an absent optional omitted. */
function compileObject(def: Record<string, unknown>, checks: CheckDef[]): Shortcut | undefined {
  if (checks.length || def.catchall !== undefined) return undefined;
  const properties: Property[] = [];
  for (const [key, child] of Object.entries(def.shape as Record<string, Internals>)) {
    if (key === '__proto__') return undefined;
    const check = compile(child);
    if (!check) return undefined;
    const type = child._zod.def.type;
    const childDef = child._zod.def;
    properties.push(
      type === 'optional'
        ? { key, absent: 'omit', check }
        : type === 'default'
          ? { key, absent: 'default', defaultOf: () => childDef.defaultValue, check }
          : { key, absent: 'unsure', check },
    );
  }
  return (value) => {
    if (!isPlainObject(value)) return UNSURE;
    const out: Record<string, unknown> = {};
    for (const property of properties) {
      const { key } = property;
      if (!(key in value)) {
        if (property.absent === 'omit') continue;
        if (property.absent === 'unsure') return UNSURE;
        out[key] = (property.defaultOf as () => unknown)();
        continue;
      }
      const item = property.check(value[key]);
      if (item === UNSURE) return UNSURE;
      out[key] = item;
    }
    return out;
  };
}

const compiled = new WeakMap<z.ZodType, Shortcut | null>();

/** The shortcut built from `schema` (once), or undefined when the schema has a part it does not cover. */
export function shortcutOf(schema: z.ZodType): Shortcut | undefined {
  let check = compiled.get(schema);
  if (check === undefined) {
    check = compile(schema as unknown as Internals) ?? null;
    compiled.set(schema, check);
  }
  return check ?? undefined;
}

/**
 * `schema.safeParse(value)`: the same result (new objects and arrays, unknown keys stripped, defaults
 * filled), through the schema's shortcut when it vouches for the value, else through zod.
 */
export function safeParse<T>(schema: z.ZodType<T>, value: unknown): z.ZodSafeParseResult<T> {
  const shortcut = shortcutOf(schema);
  if (shortcut) {
    const data = shortcut(value);
    if (data !== UNSURE) return { success: true, data: data as T };
  }
  return schema.safeParse(value);
}
