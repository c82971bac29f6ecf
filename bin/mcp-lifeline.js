#!/usr/bin/env node
// Launcher: runs the compiled CLI (dist/, built by `npm ci` through `prepare`), or, when there is
// no build, src/cli.ts through tsx's ESM loader.
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/src/cli.js', import.meta.url);
let cli;
if (existsSync(compiled)) {
  cli = await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import(new URL('../src/cli.ts', import.meta.url).href);
}
cli.runMain(process.argv.slice(2));
