/** docs/tools.md's answer tables are generated from the built-in tools' output schemas. */
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { markedTables, renderToolsDoc, TOOLS_DOC } from '../scripts/tools-doc.js';
import { builtInTools } from '../src/tools/index.js';

const doc = readFileSync(TOOLS_DOC, 'utf8');

test('docs/tools.md has an answer table for every built-in tool and for the failure form', () => {
  expect(markedTables(doc).sort()).toEqual(['failure', ...builtInTools().map((tool) => tool.name)].sort());
});

test('the answer tables match the output schemas (npm run tools-doc regenerates them)', () => {
  expect(renderToolsDoc(doc), 'docs/tools.md answer tables are stale: run `npm run tools-doc`').toBe(doc);
});

test('a table that misses a field is stale, and regenerating restores it', () => {
  const tools = builtInTools();
  const table = /<!-- answer:send_llm_prompt -->[\s\S]*?<!-- \/answer -->/.exec(doc)?.[0] ?? '';
  expect(table).toContain('| `latencyMs` * |');
  expect(tools.find((tool) => tool.name === 'send_llm_prompt')?.outputSchema?.shape).toHaveProperty(
    'latencyMs',
  );
  const without = doc.replace(/\| `latencyMs` \*[^\n]*\n/, '');
  expect(renderToolsDoc(without)).toBe(doc);
});
