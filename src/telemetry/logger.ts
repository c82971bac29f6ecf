/*
 * Structured logging, pino-compatible: a logger is `{ info, warn, error, debug }(mergingObject, message)`
 * with an optional `child(bindings)` — pino's own calling convention, so a pino instance plugs in as is.
 *
 * - `createJsonLogger(stream)` writes one JSON line per event: `{ level, time, msg, ...fields }`.
 * - `toBridgeLogger(logger)` adapts one to the bridge's `BridgeLogger` (`(message, details)`), so
 *   `createBridge({ logger: toBridgeLogger(pino()) })` routes every bridge and backend log line to it.
 * - `logReliabilityEvents(events, logger)` writes one line per retry, per breaker trip (CLOSED → OPEN)
 *   and per recovery (→ CLOSED); the bridge installs it on its own `logger`.
 *
 * Every field goes through `redact()` first: secret-looking keys (authorization, cookie, token, api
 * key, password, secret, headers) are replaced, URLs lose their credentials, query string and fragment,
 * and `Bearer …` tokens are masked. Errors are reduced to their name and (redacted) message.
 */

import { errorMessage } from '../../machines/error-message.js';
import type { BridgeLogger } from '../bridge/types.js';
import type { ReliabilityEvent, ReliabilityEvents } from './events.js';

export type LogFields = Record<string, unknown>;
export type LogFn = (fields: LogFields, message?: string) => void;

/** A pino-compatible logger (pino's `(mergingObject, message)` convention). */
export interface StructuredLogger {
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  debug: LogFn;
  child?(bindings: LogFields): StructuredLogger;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const LEVELS: Record<LogLevel, number> = { debug: 20, info: 30, warn: 40, error: 50 };

export interface JsonLoggerOptions {
  /** Lines below this level are dropped. Default 'info'. */
  level?: LogLevel;
  /** Time source for `time` (ms since the epoch). Default `Date.now`. */
  now?: () => number;
  /** Fields added to every line. */
  bindings?: LogFields;
}

/** Where JSON lines go: anything with `write(string)` (a stream, or a test's array). */
export interface LineSink {
  write(line: string): unknown;
}

export const REDACTED = '[REDACTED]';
const SECRET_KEY = /authorization|cookie|token|secret|password|passwd|api[-_]?key|credential|^headers$/i;
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi;
const BEARER = /\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+/gi;
const MAX_STRING = 500;
const MAX_DEPTH = 5;

/** A URL without user info, query string or fragment; text that does not parse is cut at `?`/`#`. */
function redactUrl(text: string): string {
  try {
    const url = new URL(text);
    url.username = '';
    url.password = '';
    url.search = '';
    url.hash = '';
    return url.toString();
  } catch {
    return text.replace(/[?#].*$/, '').replace(/\/\/[^/@]*@/, '//');
  }
}

/** A string with URLs cleaned (see {@link redactUrl}) and `Bearer`/`Basic` credentials masked. */
export function redactText(text: string): string {
  const cleaned = text
    .replace(URL_IN_TEXT, redactUrl)
    .replace(BEARER, (_, scheme: string) => `${scheme} ${REDACTED}`);
  return cleaned.length > MAX_STRING ? `${cleaned.slice(0, MAX_STRING - 3)}...` : cleaned;
}

/** A copy of `value` safe to log: secret keys replaced, strings redacted, errors reduced, depth bounded. */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') return typeof value === 'function' ? undefined : value;
  if (value instanceof Error) {
    return { name: value.name, message: redactText(value.message) };
  }
  if (depth >= MAX_DEPTH) return '[Object]';
  if (Array.isArray(value)) return value.slice(0, 50).map((item) => redact(item, depth + 1));
  const out: LogFields = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = SECRET_KEY.test(key) ? REDACTED : redact(item, depth + 1);
  }
  return out;
}

/** Node's `process.stderr` where there is one, else the console (a browser). */
function stderrSink(): LineSink {
  const stderr = (globalThis as { process?: { stderr?: LineSink } }).process?.stderr;
  return stderr ?? { write: (line) => console.error(line.trimEnd()) };
}

/** Creates a logger writing one JSON line per event to `stream`: `{ level, time, msg, ...fields }`. */
export function createJsonLogger(
  stream: LineSink = stderrSink(),
  options: JsonLoggerOptions = {},
): StructuredLogger {
  const threshold = LEVELS[options.level ?? 'info'];
  const now = options.now ?? Date.now;
  const bindings = options.bindings ?? {};
  const write =
    (level: LogLevel): LogFn =>
    (fields, message) => {
      if (LEVELS[level] < threshold) return;
      const safe = redact({ ...bindings, ...(fields ?? {}) }) as LogFields;
      // `level`, `time` and `msg` are the line's own: a field cannot overwrite them.
      const line = { ...safe, level, time: now(), msg: message === undefined ? '' : redactText(message) };
      let text: string;
      try {
        text = JSON.stringify(line);
      } catch {
        text = JSON.stringify({ level, time: line.time, msg: line.msg, fields: '[unserializable]' });
      }
      stream.write(`${text}\n`);
    };
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: (extra) => createJsonLogger(stream, { ...options, bindings: { ...bindings, ...extra } }),
  };
}

/**
 * Adapts a pino-compatible logger to the bridge's `BridgeLogger` (`(message, details)`), redacting the
 * details first (pino itself would not).
 */
export function toBridgeLogger(logger: StructuredLogger): BridgeLogger {
  const adapt =
    (fn: LogFn) =>
    (message: string, details?: Record<string, unknown>): void =>
      fn.call(logger, (details === undefined ? {} : redact(details)) as LogFields, redactText(message));
  return {
    debug: adapt(logger.debug),
    info: adapt(logger.info),
    warn: adapt(logger.warn),
    error: adapt(logger.error),
  };
}

/** The line for one reliability event, or null for events that are not logged. */
export function reliabilityLogLine(
  event: ReliabilityEvent,
): { level: LogLevel; message: string; fields: LogFields } | null {
  if (event.type === 'retry') {
    // An HTTP backend logs its own retries; only the bridge's tool-level retries are logged here.
    if (event.source !== 'tool') return null;
    const error = errorMessage(event.error);
    return {
      level: 'warn',
      message: `bridge: retrying ${event.operation}${event.backend ? ` on ${event.backend}` : ''} in ${Math.round(event.delayMs)} ms`,
      fields: {
        event: 'retry',
        backend: event.backend,
        operation: event.operation,
        attempt: event.attempt,
        delayMs: Math.round(event.delayMs),
        reason: event.reason,
        error: redactText(error),
      },
    };
  }
  if (event.type === 'breaker') {
    const trip = event.from === 'CLOSED' && event.to === 'OPEN';
    const recovery = event.to === 'CLOSED' && event.from !== 'CLOSED';
    if (!trip && !recovery) return null;
    return {
      level: trip ? 'warn' : 'info',
      message: `bridge: breaker of ${event.backend} ${trip ? 'tripped' : 'recovered'} (${event.from} → ${event.to})`,
      fields: {
        event: trip ? 'breaker.trip' : 'breaker.recovery',
        backend: event.backend,
        from: event.from,
        to: event.to,
        reason: event.reason,
      },
    };
  }
  return null;
}

/**
 * Writes one line per tool-level retry, breaker trip and breaker recovery to a `BridgeLogger` (a
 * recovery goes to `info`, or `warn` when the logger has no `info`). Returns the unsubscribe.
 */
export function logReliabilityEvents(events: ReliabilityEvents, logger: BridgeLogger): () => void {
  return events.subscribe((event) => {
    const line = reliabilityLogLine(event);
    if (!line) return;
    const fn =
      (line.level === 'info' ? logger.info : line.level === 'warn' ? logger.warn : logger.error) ??
      logger.warn;
    fn.call(logger, line.message, line.fields);
  });
}
