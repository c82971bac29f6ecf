/*
 * `npm run diagrams`: writes each machine's Mermaid state diagram, generated from its definition,
 * into README.md between `<!-- diagram:NAME -->` and `<!-- /diagram:NAME -->`. `--check` only
 * reports stale diagrams (test/diagrams.test.ts runs the same comparison).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { AnyStateMachine } from 'xstate';
import { breakerMachine } from '../machines/breaker.machine.js';
import { bridgeMachine } from '../machines/bridge.machine.js';
import { httpMachine } from '../machines/http.machine.js';
import { mcpMachine } from '../machines/mcp.machine.js';
import { retryMachine } from '../machines/retry.machine.js';
import { socketMachine } from '../machines/socket.machine.js';
import { webMcpPageMachine } from '../machines/webmcp-page.machine.js';
import { toMermaid } from '../src/diagram/mermaid.js';
import { isMainModule } from '../src/is-main.js';

export const diagramMachines: Record<string, AnyStateMachine> = {
  breaker: breakerMachine,
  retry: retryMachine,
  socket: socketMachine,
  http: httpMachine,
  bridge: bridgeMachine,
  mcp: mcpMachine,
  'webmcp-page': webMcpPageMachine,
};

const README = new URL('../README.md', import.meta.url);

/** README.md with every diagram block regenerated; throws when a block's markers are missing. */
export function renderReadme(readme: string): string {
  let text = readme;
  for (const [name, machine] of Object.entries(diagramMachines)) {
    const open = `<!-- diagram:${name} -->`;
    const close = `<!-- /diagram:${name} -->`;
    const start = text.indexOf(open);
    const end = text.indexOf(close);
    if (start < 0 || end < start) throw new Error(`README.md has no ${open} … ${close} block`);
    const block = `${open}\n\`\`\`mermaid\n${toMermaid(machine)}\n\`\`\`\n`;
    text = text.slice(0, start) + block + text.slice(end);
  }
  return text;
}

if (isMainModule(import.meta.url)) {
  const current = readFileSync(README, 'utf8');
  const fresh = renderReadme(current);
  if (process.argv.includes('--check')) {
    if (fresh !== current) {
      console.error('README.md diagrams are stale: run npm run diagrams');
      process.exit(1);
    }
  } else if (fresh !== current) {
    writeFileSync(README, fresh);
    console.log('README.md diagrams updated');
  } else console.log('README.md diagrams are up to date');
}
