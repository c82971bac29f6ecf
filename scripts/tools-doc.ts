/*
 * `npm run tools-doc`: writes the answer tables of docs/tools.md from the built-in tools' output
 * schemas (the `outputSchema` MCP clients see), between `<!-- answer:<tool> -->` and
 * `<!-- /answer -->` markers; `answer:failure` holds the failure form every tool shares. `--check`
 * only reports whether the tables are stale (test/tools-doc.test.ts runs the same comparison).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { isMainModule } from '../src/is-main.js';
import { builtInTools } from '../src/tools/index.js';
import { toolFailureOutput } from '../src/tools/output.js';

export const TOOLS_DOC = new URL('../docs/tools.md', import.meta.url);

type Json = Record<string, unknown>;

const code = (value: unknown) => `\`${typeof value === 'string' ? value : JSON.stringify(value)}\``;

/** A short reading of a field's JSON Schema, for a table cell. */
function typeOf(schema: Json): string {
  if (Array.isArray(schema.anyOf)) return (schema.anyOf as Json[]).map(typeOf).join(' or ');
  if (Array.isArray(schema.enum)) return (schema.enum as unknown[]).map(code).join(' \\| ');
  if (schema.const !== undefined) return code(schema.const);
  if (Array.isArray(schema.type))
    return (schema.type as string[]).map((type) => typeOf({ ...schema, type })).join(' or ');
  switch (schema.type) {
    case 'integer':
    case 'number': {
      const bounds = [
        typeof schema.minimum === 'number' && schema.minimum > -Number.MAX_SAFE_INTEGER
          ? `≥ ${schema.minimum}`
          : '',
        typeof schema.maximum === 'number' && schema.maximum < Number.MAX_SAFE_INTEGER
          ? `≤ ${schema.maximum}`
          : '',
      ].filter(Boolean);
      return [schema.type, ...bounds].join(' ');
    }
    case 'array':
      return `array of ${typeOf((schema.items ?? {}) as Json)}`;
    case 'object': {
      const properties = schema.properties as Record<string, Json> | undefined;
      if (properties) {
        const required = new Set((schema.required as string[] | undefined) ?? []);
        const keys = Object.keys(properties).map((key) => (required.has(key) ? key : `${key}?`));
        return `{ ${keys.join(', ')} }`;
      }
      const values = schema.additionalProperties;
      return typeof values === 'object' && values !== null && Object.keys(values).length > 0
        ? `object: name → ${typeOf(values as Json)}`
        : 'object';
    }
    case undefined:
      return 'any';
    default:
      return String(schema.type);
  }
}

/** The table of a zod object's fields: name (`*` when always there), type, meaning. */
function table(schema: z.ZodObject<z.ZodRawShape>): string {
  const json = z.toJSONSchema(schema, { io: 'output' }) as Json;
  const properties = json.properties as Record<string, Json>;
  const required = new Set((json.required as string[] | undefined) ?? []);
  const rows = Object.entries(properties).map(([name, field]) => {
    const { description, ...shape } = field;
    const marker = required.has(name) ? ' *' : '';
    return `| \`${name}\`${marker} | ${typeOf(shape)} | ${String(description ?? '').replaceAll('|', '\\|')} |`;
  });
  return ['| answer field | type | meaning |', '|---|---|---|', ...rows].join('\n');
}

/** Every answer table, by marker name. */
export function answerTables(): Map<string, string> {
  const tables = new Map<string, string>([['failure', table(toolFailureOutput)]]);
  for (const tool of builtInTools()) {
    if (!tool.outputSchema) throw new Error(`${tool.name} declares no outputSchema`);
    const success = z.object({ success: z.literal(true).describe('The call worked.') });
    tables.set(tool.name, table(success.extend(tool.outputSchema.shape)));
  }
  return tables;
}

const MARKED = /<!-- answer:([\w.-]+) -->\n[\s\S]*?<!-- \/answer -->/g;

/** `doc` with every marked table regenerated; throws for a marker naming no tool. */
export function renderToolsDoc(doc: string): string {
  const tables = answerTables();
  return doc.replace(MARKED, (_match, name: string) => {
    const body = tables.get(name);
    if (body === undefined) throw new Error(`docs/tools.md: no tool "${name}" for its answer table`);
    return `<!-- answer:${name} -->\n${body}\n<!-- /answer -->`;
  });
}

/** The marker names in `doc`. */
export function markedTables(doc: string): string[] {
  return [...doc.matchAll(MARKED)].map((match) => match[1] as string);
}

if (isMainModule(import.meta.url)) {
  const doc = readFileSync(TOOLS_DOC, 'utf8');
  const rendered = renderToolsDoc(doc);
  if (process.argv.includes('--check')) {
    if (rendered !== doc) {
      process.stderr.write('docs/tools.md answer tables are stale: run `npm run tools-doc`\n');
      process.exitCode = 1;
    }
  } else if (rendered === doc) process.stdout.write('docs/tools.md is up to date\n');
  else {
    writeFileSync(fileURLToPath(TOOLS_DOC), rendered);
    process.stdout.write('wrote docs/tools.md\n');
  }
}
