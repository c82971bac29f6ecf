/**
 * Frames of the WebSocket backend: size and depth limits, parsing, and the words used for errors.
 * Pure functions, no socket.
 */
import { checkNumber } from '../../validate.js';
import { FrameTooLargeError } from '../errors.js';

/** Limits and checks applied to every incoming frame. */
export interface FrameLimits {
  maxFrameBytes: number;
  maxFrameDepth: number;
  validateFrame?: ((frame: Record<string, unknown>) => string | null) | undefined;
}

/** `fallback` when `value` is not given; otherwise `value`, checked (> 0, or ≥ 0 with `allowZero`). */
export function positiveOr(
  name: string,
  value: number | undefined,
  fallback: number,
  allowZero = false,
): number {
  return value === undefined
    ? fallback
    : checkNumber(name, value, allowZero ? { min: 0 } : { positive: true });
}

export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** Whether JSON text nests arrays/objects deeper than `limit` (strings skipped): one linear scan, no parse. */
export function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === 0x5c) i++;
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) inString = true;
    else if (code === 0x7b || code === 0x5b) {
      if (++depth > limit) return true;
    } else if (code === 0x7d || code === 0x5d) depth--;
  }
  return false;
}

/** `url` without what may be a secret: user, password, query and fragment. */
export function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

/** Why a connection could not be made, in words: "connection refused: ws://host:port/path". */
export function connectFailure(error: unknown, url: string): string {
  const code = (error as { code?: unknown } | null)?.code;
  const where = safeUrl(url);
  if (code === 'ECONNREFUSED') return `connection refused: ${where}`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `host not found: ${where}`;
  if (code === 'ETIMEDOUT') return `connection timed out: ${where}`;
  if (code === 'ECONNRESET') return `connection reset: ${where}`;
  const message = error === undefined ? 'socket error' : describe(error);
  return `connection failed (${message}): ${where}`;
}

export function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' && message ? message : String(error);
}

/** `message` as frame text (strings as they are, anything else as JSON), refused over `maxFrameBytes`. */
export function serializeFrame(backend: string, message: unknown, maxFrameBytes: number): string {
  const data = typeof message === 'string' ? message : JSON.stringify(message);
  if (typeof data !== 'string') throw new TypeError('send(): message is not serializable to JSON');
  if (data.length > maxFrameBytes || (data.length * 3 > maxFrameBytes && utf8Length(data) > maxFrameBytes)) {
    throw new FrameTooLargeError(backend, utf8Length(data), maxFrameBytes);
  }
  return data;
}

/** The frame as a JSON object, or why it is malformed. */
export function parseFrame(data: unknown, limits: FrameLimits): Record<string, unknown> | string {
  const { maxFrameBytes, maxFrameDepth, validateFrame } = limits;
  let text: string;
  if (typeof data === 'string') text = data;
  else if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) {
    if (data.byteLength > maxFrameBytes) return `frame of ${data.byteLength} bytes over the limit`;
    text = new TextDecoder().decode(data);
  } else return 'unsupported frame type';
  if (text.length > maxFrameBytes || (text.length * 3 > maxFrameBytes && utf8Length(text) > maxFrameBytes)) {
    return `frame over the ${maxFrameBytes}-byte limit`;
  }
  if (nestsDeeperThan(text, maxFrameDepth)) return `JSON nested over ${maxFrameDepth} levels`;
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  if (frame === null || typeof frame !== 'object' || Array.isArray(frame)) return 'not a JSON object';
  const object = frame as Record<string, unknown>;
  if ('requestId' in object && (typeof object.requestId !== 'string' || object.requestId === '')) {
    return 'requestId is not a non-empty string';
  }
  if (validateFrame) {
    try {
      const reason = validateFrame(object);
      if (reason) return reason;
    } catch (error) {
      return `validateFrame threw: ${describe(error)}`;
    }
  }
  return object;
}
