/**
 * The import graph (static `import … from` / `export … from`, types included) of src/ and machines/:
 * no file-level cycle, `tools/` never imports `bridge/` (the bridge composes tools), `backends/`
 * imports neither, and `machines/` imports only xstate. A small script instead of madge: the graph
 * is a few regular expressions away and needs no extra dependency.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { expect, test } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [path] : [];
  });
}

function graph(): Map<string, string[]> {
  const edges = new Map<string, string[]>();
  for (const file of [...files(join(ROOT, 'src')), ...files(join(ROOT, 'machines'))]) {
    const text = readFileSync(file, 'utf8');
    const targets = [...text.matchAll(/(?:import|export)[^;]*?from '(\.[^']+)'/g)].map((m) =>
      relative(ROOT, resolve(dirname(file), (m[1] as string).replace(/\.js$/, '.ts'))),
    );
    edges.set(relative(ROOT, file), targets);
  }
  return edges;
}

function cycles(edges: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, 'visiting');
    stack.push(node);
    for (const next of edges.get(node) ?? []) {
      if (state.get(next) === 'visiting') found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of edges.keys()) if (!state.has(node)) visit(node);
  return found;
}

test('src/ and machines/ have no import cycle', () => {
  expect(cycles(graph()).map((cycle) => cycle.join(' → '))).toEqual([]);
});

test('tools/ never imports bridge/; backends/ imports neither; machines/ only xstate', () => {
  const wrong: string[] = [];
  for (const [file, targets] of graph()) {
    for (const target of targets) {
      if (file.startsWith('src/tools/') && target.startsWith('src/bridge/'))
        wrong.push(`${file} → ${target}`);
      if (file.startsWith('src/backends/') && /^src\/(bridge|tools)\//.test(target))
        wrong.push(`${file} → ${target}`);
      if (file.startsWith('machines/') && !target.startsWith('machines/')) wrong.push(`${file} → ${target}`);
    }
  }
  expect(wrong).toEqual([]);
});
