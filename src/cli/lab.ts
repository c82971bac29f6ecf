/** `mcp-lifeline lab`: the local backends with fault injection. */
import { runLab } from '../lab/main.js';
import type { CliIO } from './io.js';

export { LAB_USAGE } from '../lab/main.js';

export function labCommand(argv: readonly string[], io: CliIO): Promise<number> {
  return runLab(argv, {
    stdout: io.stdout,
    stderr: io.stderr,
    env: io.env as NodeJS.ProcessEnv,
    ...(io.signal ? { signal: io.signal } : {}),
    ...(io.handleSignals === undefined ? {} : { handleSignals: io.handleSignals }),
  });
}
