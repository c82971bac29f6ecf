/** docs/config.schema.json is generated from the zod config schema; docs/config.md's example is valid. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { configSchemaIsCurrent, renderConfigSchema, SCHEMA_FILE } from '../scripts/schema.js';
import { configFileSchema, loadConfig } from '../src/config.js';

test('docs/config.schema.json matches the zod schema (npm run schema regenerates it)', () => {
  expect(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')), 'stale: run `npm run schema`').toEqual(
    JSON.parse(renderConfigSchema()),
  );
  expect(configSchemaIsCurrent()).toBe(true);
});

test('the schema names every top-level setting of the config file', () => {
  const schema = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8'));
  expect(Object.keys(schema.properties).sort()).toEqual(Object.keys(configFileSchema.shape).sort());
  expect(schema.additionalProperties).toBe(false);
});

test('the full example in docs/config.md loads', () => {
  const doc = readFileSync(new URL('../docs/config.md', import.meta.url), 'utf8');
  const block = /<!-- config-example -->\s*```json\n([\s\S]*?)```\s*<!-- \/config-example -->/.exec(doc)?.[1];
  expect(block).toBeDefined();
  const dir = mkdtempSync(join(tmpdir(), 'mcp-lifeline-config-doc-'));
  writeFileSync(join(dir, 'mcp-lifeline.config.json'), block as string);
  const config = loadConfig({ cwd: dir, env: {} });
  expect(config.backends?.lmStudio?.url).toBe('http://localhost:1234/v1');
  expect(config.backends?.search).toMatchObject({ kind: 'http', enabled: false });
  expect(config.dataDir).toBe(join(dir, '.mcp-lifeline'));
});
