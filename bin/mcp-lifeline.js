#!/usr/bin/env node
// Launcher. In a clone (src/cli.ts beside this folder) it runs the TypeScript source through tsx, a
// dev dependency, so a stale dist/ never shadows the source. An installed package has no src/ and
// runs the compiled dist/ (built by `prepack`), which needs neither tsx nor vite.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli.ts', import.meta.url);
const compiled = new URL('../dist/src/cli.js', import.meta.url);

async function load() {
  if (existsSync(source)) {
    try {
      const { register } = await import('tsx/esm/api');
      register();
      return await import(source.href);
    } catch (error) {
      if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes("'tsx'")) throw error;
      if (existsSync(compiled)) return import(compiled.href);
      throw new Error('this is a clone without its dev dependencies: run `npm ci` (or `npm run build`)');
    }
  }
  if (existsSync(compiled)) return import(compiled.href);
  throw new Error('the package has no dist/ (it is built by `npm pack`): reinstall mcp-lifeline');
}

load().then(
  (cli) => cli.runMain(process.argv.slice(2)),
  (error) => {
    process.stderr.write(`mcp-lifeline: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
