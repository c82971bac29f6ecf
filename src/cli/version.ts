/** This package's version, read from its package.json (found upward from this file). */
import { readFileSync } from 'node:fs';

let version: string | undefined;

export function packageVersion(): string {
  version ??= readPackageVersion();
  return version;
}

function readPackageVersion(): string {
  for (const relative of ['../../package.json', '../../../package.json']) {
    try {
      const json = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (json.name === 'mcp-lifeline' && json.version) return json.version;
    } catch {
      // not there: try the next level (src/cli → root; dist/src/cli → root)
    }
  }
  return '0.0.0';
}
