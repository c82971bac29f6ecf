/** The errors of a `webmcp-page` backend. Recognised by `name` (see `src/tools/errors.ts`). */

/** A tool the page does not mark `readOnlyHint` was called without being allowed by `allowWrite`. */
export class WebMcpWriteRefusedError extends Error {
  override readonly name = 'WebMcpWriteRefusedError';
  constructor(
    readonly backend: string,
    readonly tool: string,
  ) {
    super(
      `Backend "${backend}": tool "${tool}" is not marked readOnlyHint by the page and is not in allowWrite; ` +
        `add "${tool}" (or "*") to backends.${backend}.allowWrite to let agents run it with your browser session`,
    );
  }
}

/** The page navigated (or reloaded) while a call ran in it: its result is lost. */
export class WebMcpPageNavigatedError extends Error {
  override readonly name = 'WebMcpPageNavigatedError';
  constructor(
    readonly backend: string,
    readonly tool: string,
  ) {
    super(`Backend "${backend}": the page navigated while "${tool}" ran; its result is lost`);
  }
}

/** The page has no tool of that name, and did not register it again within the reload wait. */
export class WebMcpToolNotFoundError extends Error {
  override readonly name = 'WebMcpToolNotFoundError';
  constructor(
    readonly backend: string,
    readonly tool: string,
  ) {
    super(`Backend "${backend}": the page has no tool "${tool}"`);
  }
}
