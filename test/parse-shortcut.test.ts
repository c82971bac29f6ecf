import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { builtInTools } from '../src/tools/index.js';
import { safeParse, shortcutOf, UNSURE } from '../src/tools/parse.js';
import { chatCompletionReply } from '../src/tools/send-llm-prompt.js';
import { evolutionReply } from '../src/tools/trigger-evolution.js';

/** Every kind of schema node the shortcut covers, a few per schema (so that many values pass). */
const scalars = z.object({
  name: z.string().min(1).max(5),
  count: z.number().int().min(0).max(10),
  ratio: z.number().gt(0).lt(1).default(0.5),
});
const choices = z.object({
  flag: z.boolean().optional(),
  mode: z.enum(['a', 'b']).default('a'),
  kind: z.literal('k').nullish(),
  anything: z.unknown(),
});
const lists = z.object({
  tags: z.array(z.string().max(3)).min(1).max(3).optional(),
  pair: z.tuple([z.number()], z.string()).nullable(),
  nested: z.object({ deep: z.string().nullish(), list: z.array(z.number()).default(() => [1]) }).optional(),
});

/** Keys at every level, in order: `toStrictEqual` does not compare the order of keys. */
function keyOrder(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(keyOrder);
  if (typeof value !== 'object' || value === null) return null;
  return Object.entries(value).map(([key, item]) => [key, keyOrder(item)]);
}

/** A number or length bound of `schema`'s checks (`greater_than`/`min_length` low, the others high). */
function bound(def: Record<string, unknown>, low: boolean): number | undefined {
  const checks = (def.checks ?? []) as { _zod: { def: Record<string, unknown> } }[];
  for (const { _zod } of checks) {
    const c = _zod.def;
    if (low && c.check === 'greater_than') return c.value as number;
    if (low && c.check === 'min_length') return c.minimum as number;
    if (!low && c.check === 'less_than') return c.value as number;
    if (!low && c.check === 'max_length') return c.maximum as number;
  }
  return undefined;
}

/**
 * Values near what `schema` accepts: mostly valid, with values at and just past the bounds of its
 * checks, and now and then a node of another type, an absent key or `undefined`.
 */
function near(schema: z.ZodType): fc.Arbitrary<unknown> {
  const def = (schema as unknown as { _zod: { def: Record<string, unknown> & { type: string } } })._zod.def;
  const stray = fc.oneof(
    fc.constant(undefined),
    fc.constant(null),
    fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -0, 0.5, 1e21),
    fc.string({ maxLength: 3 }),
    fc.boolean(),
    fc.constant([]),
    fc.constant({}),
  );
  const lo = bound(def, true);
  const hi = bound(def, false);
  const own = (() => {
    switch (def.type) {
      case 'string':
        return fc.string({ minLength: Math.max(0, (lo ?? 0) - 1), maxLength: Math.min((hi ?? 6) + 1, 12) });
      case 'number': {
        const min = lo ?? -5;
        const max = hi ?? 5;
        const edges = fc.constantFrom(min, max, min - 0.001, max + 0.001, min - 1, max + 1);
        const inside = fc.double({ min, max, noNaN: true });
        return Math.ceil(min) <= Math.floor(max)
          ? fc.oneof(edges, inside, fc.integer({ min: Math.ceil(min), max: Math.floor(max) }))
          : fc.oneof(edges, inside);
      }
      case 'boolean':
        return fc.boolean();
      case 'enum':
      case 'literal':
        return fc.constantFrom(
          ...[...((schema as unknown as { _zod: { values: Set<unknown> } })._zod.values ?? [])],
        );
      case 'optional':
      case 'nullable':
      case 'default':
        return fc.oneof(
          { weight: 4, arbitrary: near(def.innerType as z.ZodType) },
          { weight: 1, arbitrary: fc.constantFrom(undefined, null) },
        );
      case 'array':
        return fc.array(near(def.element as z.ZodType), { maxLength: Math.min((hi ?? 3) + 1, 5) });
      case 'tuple':
        return fc
          .tuple(
            ...(def.items as z.ZodType[]).map(near),
            fc.array(def.rest ? near(def.rest as z.ZodType) : fc.integer(), { maxLength: def.rest ? 2 : 1 }),
          )
          .chain((parts) =>
            fc.constantFrom(parts.slice(0, -1), [...parts.slice(0, -1), ...(parts.at(-1) as unknown[])]),
          );
      case 'object': {
        const shape = Object.fromEntries(
          Object.entries(def.shape as Record<string, z.ZodType>).map(([key, child]) => [key, near(child)]),
        );
        return fc
          .oneof(
            { weight: 4, arbitrary: fc.record(shape) },
            { weight: 1, arbitrary: fc.record(shape, { requiredKeys: [] }) },
          )
          .chain((value) =>
            fc.constantFrom(
              value,
              { ...value, extra: 1 },
              Object.fromEntries(Object.entries(value).reverse()),
            ),
          );
      }
      default:
        return fc.anything({ maxDepth: 1 });
    }
  })();
  return fc.oneof({ weight: 15, arbitrary: own }, { weight: 1, arbitrary: stray });
}

/**
 * `safeParse` and zod agree on `value`: both succeed with the same data, keys in the same order, or
 * both fail with the same issues. Returns whether the shortcut answered (else zod did).
 */
function agrees(schema: z.ZodType, value: unknown): boolean {
  const expected = schema.safeParse(value);
  const answered = shortcutOf(schema)?.(value) !== UNSURE;
  if (answered) expect(expected.success).toBe(true);
  const got = safeParse(schema, value);
  expect(got.success).toBe(expected.success);
  if (!expected.success) {
    expect(got.error?.issues).toEqual(expected.error.issues);
    return answered;
  }
  expect(got.data).toStrictEqual(expected.data);
  expect(keyOrder(got.data)).toEqual(keyOrder(expected.data));
  return answered;
}

describe('safeParse: a shortcut built from a zod schema, answering what zod answers', () => {
  const hot = {
    'send_llm_prompt arguments': builtInTools().find((t) => t.name === 'send_llm_prompt')?.inputSchema,
    'trigger_evolution arguments': builtInTools().find((t) => t.name === 'trigger_evolution')?.inputSchema,
    'get_os_state arguments': builtInTools().find((t) => t.name === 'get_os_state')?.inputSchema,
    'an LLM reply': chatCompletionReply,
    'an evolution reply': evolutionReply,
    'strings, numbers and defaults': scalars,
    'booleans, enums, literals, optional, nullish and unknown': choices,
    'arrays, tuples and nested objects': lists,
  } as Record<string, z.ZodType>;

  it.each(Object.keys(hot))('has a shortcut for %s', (label) => {
    expect(shortcutOf(hot[label] as z.ZodType)).toBeTypeOf('function');
  });

  it('has none for what it does not cover: zod answers alone', () => {
    for (const schema of [
      z.looseObject({ a: z.string() }),
      z.string().email(),
      z.union([z.string(), z.number()]),
      z.record(z.string(), z.number()),
      z.number().multipleOf(2),
      z.string().transform((s) => s.length),
      z.object({ a: z.string() }).refine((v) => v.a !== 'x'),
    ])
      expect(shortcutOf(schema)).toBeUndefined();
  });

  it.each(Object.keys(hot))('agrees with zod on values near what %s accepts', (label) => {
    const schema = hot[label] as z.ZodType;
    let answered = 0;
    fc.assert(
      fc.property(near(schema), (value) => {
        if (agrees(schema, value)) answered++;
      }),
      { numRuns: 2_000 },
    );
    // The shortcut itself answered a good share of them, not only zod.
    expect(answered).toBeGreaterThan(100);
  });

  it('reads stacked bounds as zod does: the tightest wins, exclusive over inclusive at the same value', () => {
    const numbers = [
      z.number().gte(5).gt(5),
      z.number().gt(5).gte(5),
      z.number().gt(3).gte(5),
      z.number().lte(5).lt(5),
      z.number().lt(5).lte(5),
      z.number().lt(7).lte(5),
      z.number().int().gte(1).lte(3).lt(3),
    ];
    for (const schema of numbers) {
      expect(shortcutOf(schema)).toBeTypeOf('function');
      for (const value of [-1, 1, 2.5, 3, 4, 4.5, 5, 5.5, 6, 7, 8]) agrees(schema, value);
    }
    const lengths = [z.string().min(2).min(3).max(5).max(4), z.array(z.number()).min(1).min(2).max(3)];
    for (const schema of lengths) {
      expect(shortcutOf(schema)).toBeTypeOf('function');
      for (let length = 0; length <= 6; length++) {
        agrees(schema, 'x'.repeat(length));
        agrees(
          schema,
          Array.from({ length }, () => 1),
        );
      }
    }
  });

  it('leaves a recursive schema (a getter in its shape) to zod, instead of recursing without end', () => {
    const node: z.ZodType = z.object({
      name: z.string(),
      get children() {
        return z.array(node).optional();
      },
    });
    const tree = { name: 'a', children: [{ name: 'b', children: [] }] };
    expect(safeParse(node, tree)).toEqual(node.safeParse(tree));
    expect(safeParse(node, { name: 1 }).success).toBe(false);
  });

  it('gives a fresh default each time, as zod does (a default array is not shared)', () => {
    const a = safeParse(lists, { pair: null, nested: {} });
    const b = safeParse(lists, { pair: null, nested: {} });
    expect(a.success && b.success).toBe(true);
    expect(a.data?.nested?.list).toEqual([1]);
    expect(a.data?.nested?.list).not.toBe(b.data?.nested?.list);
  });

  it('copies what it accepts: the data is a new object, unknown keys stripped', () => {
    const args = { prompt: 'hi', extra: true };
    const schema = hot['send_llm_prompt arguments'] as z.ZodType;
    const parsed = safeParse(schema, args);
    expect(parsed.data).not.toBe(args);
    expect(parsed.data).toStrictEqual({ prompt: 'hi', model: 'local', temperature: 0.7, max_tokens: 2048 });
  });
});
