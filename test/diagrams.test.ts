import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { diagramMachines, renderReadme } from '../scripts/diagrams.js';

test('the README state diagrams match the machine definitions (npm run diagrams regenerates them)', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  expect(renderReadme(readme), 'README.md diagrams are stale: run `npm run diagrams`').toBe(readme);
});

test('every diagram names the states of its machine', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  for (const [name, machine] of Object.entries(diagramMachines)) {
    const block = readme.slice(
      readme.indexOf(`<!-- diagram:${name} -->`),
      readme.indexOf(`<!-- /diagram:${name} -->`),
    );
    for (const state of Object.keys(machine.root.states)) expect(block).toContain(`"${state}"`);
  }
});
