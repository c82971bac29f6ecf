/** What a CLI command reads and writes; tests pass their own. */
export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
  cwd: string;
  /** Whether stdout is a terminal (the live health line is then rewritten in place). */
  isTTY: boolean;
  /** Stops a long-running command (besides SIGINT/SIGTERM). */
  signal?: AbortSignal;
  /** Install SIGINT/SIGTERM handlers for long-running commands. Default true. */
  handleSignals?: boolean;
}

export function processIO(): CliIO {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    cwd: process.cwd(),
    isTTY: Boolean(process.stdout.isTTY),
  };
}

/** Resolves on SIGINT, SIGTERM or `io.signal`, whichever comes first; removes its handlers. */
export function untilStopped(io: CliIO, extra?: Promise<unknown>): Promise<string> {
  return new Promise((resolve) => {
    const handleSignals = io.handleSignals ?? true;
    let done = false;
    const finish = (why: string) => {
      if (done) return;
      done = true;
      if (handleSignals) {
        process.off('SIGINT', onInt);
        process.off('SIGTERM', onTerm);
      }
      io.signal?.removeEventListener('abort', onAbort);
      resolve(why);
    };
    const onInt = () => finish('SIGINT');
    const onTerm = () => finish('SIGTERM');
    const onAbort = () => finish('abort');
    if (handleSignals) {
      process.once('SIGINT', onInt);
      process.once('SIGTERM', onTerm);
    }
    io.signal?.addEventListener('abort', onAbort, { once: true });
    if (io.signal?.aborted) finish('abort');
    extra?.then(
      () => finish('closed'),
      () => finish('closed'),
    );
  });
}
