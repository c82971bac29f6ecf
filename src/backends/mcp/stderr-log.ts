/*
 * Where an MCP server's stderr goes: the backend's logger, one entry per line, redacted, and bounded —
 * at most `maxLines` lines per `windowMs` (then one "suppressed" note), so a chatty server cannot flood
 * the log. Never to our stdout, which may be the MCP channel of the bridge itself.
 */
import type { Clock } from '../../clock.js';
import type { BackendLogger } from '../kind.js';

export interface StderrLogOptions {
  backend: string;
  logger: BackendLogger;
  redact: (text: string) => string;
  clock: Clock;
  maxLines?: number;
  windowMs?: number;
}

/** Returns the line handler to give the transport. */
export function createStderrLog(options: StderrLogOptions): (line: string) => void {
  const maxLines = options.maxLines ?? 50;
  const windowMs = options.windowMs ?? 10_000;
  let windowStart = Number.NEGATIVE_INFINITY;
  let lines = 0;
  let suppressed = 0;
  const log = options.logger.info ?? options.logger.warn;
  return (line) => {
    if (line.trim() === '') return;
    const now = options.clock.now();
    if (now - windowStart >= windowMs) {
      if (suppressed > 0)
        options.logger.warn(`mcp backend "${options.backend}": ${suppressed} stderr lines suppressed`, {
          backend: options.backend,
        });
      windowStart = now;
      lines = 0;
      suppressed = 0;
    }
    if (lines >= maxLines) {
      suppressed += 1;
      return;
    }
    lines += 1;
    log.call(options.logger, `mcp backend "${options.backend}" stderr: ${options.redact(line)}`, {
      backend: options.backend,
    });
  };
}
