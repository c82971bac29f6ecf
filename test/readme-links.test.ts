/**
 * Every relative link in the README and docs/ resolves to a file inside the repository, and every
 * repository path the README names in backticks (`docs/x.md`, `src/y.ts`…) exists: a reader (or the
 * npm page) never meets a path that only existed on the author's machine.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './e2e/helpers.js';

const DOCUMENTS = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** Markdown link and image targets outside code blocks, without their `#anchor`. */
function linkTargets(markdown: string): string[] {
  const prose = markdown.replace(/```[\s\S]*?```/g, '');
  const targets: string[] = [];
  for (const match of prose.matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g))
    targets.push(match[1] as string);
  for (const match of prose.matchAll(/^\[[^\]]+\]:\s*(\S+)/gm)) targets.push(match[1] as string);
  return targets;
}

const isExternal = (target: string) => /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#');

describe.each(DOCUMENTS)('%s', (document) => {
  const text = readFileSync(join(ROOT, document), 'utf8');

  it('has only relative links that resolve inside the repository', () => {
    const broken: string[] = [];
    for (const target of linkTargets(text)) {
      if (isExternal(target)) continue;
      const path = resolve(dirname(join(ROOT, document)), decodeURIComponent(target.split('#')[0] as string));
      const inside = !relative(ROOT, path).startsWith('..');
      if (!inside || !existsSync(path)) broken.push(target);
    }
    expect(broken).toEqual([]);
  });
});

describe('README.md', () => {
  it('names only repository paths that exist', () => {
    const text = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const missing: string[] = [];
    for (const match of text.matchAll(/`([A-Za-z0-9_.-]+\/[A-Za-z0-9_./-]*\.(?:md|ts|json|png|js))`/g)) {
      const path = match[1] as string;
      // Paths in the user's project (node_modules/, .vscode/…) or made by a build (dist/) are not ours.
      if (/^(node_modules|dist)\//.test(path) || path.startsWith('.') || path.includes('*')) continue;
      if (!existsSync(join(ROOT, path))) missing.push(path);
    }
    expect(missing).toEqual([]);
  });

  it('links the docs a user needs', () => {
    const text = readFileSync(join(ROOT, 'README.md'), 'utf8');
    for (const doc of ['docs/tools.md', 'docs/backends.md', 'docs/config.md', 'LICENSE'])
      expect(linkTargets(text)).toContain(doc);
  });
});
