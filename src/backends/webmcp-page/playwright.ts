/*
 * Loads playwright-core, an optional peer dependency: only `webmcp-page` backends need it, and only
 * when they first attach. A missing package becomes `PlaywrightMissingError`, which names it and
 * says how to install it.
 */

/** The part of playwright-core the backend uses. */
export type PlaywrightModule = typeof import('playwright-core');

/** playwright-core is not installed (the `webmcp-page` kind needs it). */
export class PlaywrightMissingError extends Error {
  override readonly name = 'PlaywrightMissingError';
  constructor(cause: unknown) {
    super(
      'the webmcp-page backend needs the optional package playwright-core, which is not installed: ' +
        'run `npm install playwright-core` beside mcp-lifeline (no browser download is needed; it attaches to your Chromium over CDP)',
      { cause },
    );
  }
}

function isMissingModule(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}

/** `import('playwright-core')` (or `importer`), with a missing package turned into `PlaywrightMissingError`. */
export async function loadPlaywright(
  importer: () => Promise<unknown> = () => import('playwright-core'),
): Promise<PlaywrightModule> {
  try {
    return (await importer()) as PlaywrightModule;
  } catch (error) {
    if (isMissingModule(error)) throw new PlaywrightMissingError(error);
    throw error;
  }
}
