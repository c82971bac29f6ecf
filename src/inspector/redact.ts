/**
 * Makes inspection data safe to stream and to record: JSON-only (functions dropped, errors, maps,
 * sets and actor references turned into plain data, cycles cut), bounded (depth, keys, array items,
 * string length) and with anything that looks like a secret replaced by `[redacted]`.
 */

export const REDACTED = '[redacted]';

export interface JsonSafeLimits {
  /** Nesting below this depth becomes `'[…]'`. Default 8. */
  maxDepth?: number;
  /** Keys kept per object. Default 100. */
  maxKeys?: number;
  /** Items kept per array. Default 50. */
  maxItems?: number;
  /** Characters kept per string. Default 2 000. */
  maxString?: number;
  /** Objects and arrays visited per value; beyond it `'[…]'`. Default 5 000. */
  maxNodes?: number;
}

/** Keys whose values are never shown. */
const SECRET_KEY =
  /^(authorization|proxy-authorization|cookie|set-cookie|x-api-key)$|token(?!s|_?count|_?usage)|api[-_]?key|secret|password|passwd|credential|private[-_]?key|session[-_]?key|bearer/i;

/** `?token=…`, `&api_key=…` and the like inside URLs or free text. */
const SECRET_QUERY =
  /([?&;](?:access[-_]?token|refresh[-_]?token|id[-_]?token|token|api[-_]?key|apikey|key|secret|password|passwd|auth|sig|signature|client[-_]?secret)=)[^&#\s"']*/gi;
/** `Bearer abc…` / `Basic abc…`. */
const AUTH_SCHEME = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{4,}/g;
/** `https://user:pass@host`. */
const URL_USERINFO = /(\b[a-z][a-z0-9+.-]*:\/\/)[^/\s:@]+:[^/\s@]+@/gi;
/** Well-known key formats (OpenAI-style `sk-…`, GitHub tokens, AWS access keys). */
const KEY_LIKE = /\b(sk-[A-Za-z0-9_-]{12,}|gh[pousr]_[A-Za-z0-9]{20,}|AKIA[0-9A-Z]{16})\b/g;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/** Redacts secrets inside a free-text string (URLs with credentials, bearer tokens, key formats). */
export function redactString(text: string): string {
  return text
    .replace(SECRET_QUERY, `$1${REDACTED}`)
    .replace(AUTH_SCHEME, `$1 ${REDACTED}`)
    .replace(URL_USERINFO, `$1${REDACTED}@`)
    .replace(KEY_LIKE, REDACTED);
}

interface ActorLike {
  sessionId: string;
  send: unknown;
  getSnapshot: unknown;
}

function isActorLike(value: object): value is ActorLike {
  return 'sessionId' in value && 'send' in value && 'getSnapshot' in value;
}

/**
 * A JSON-safe, bounded, redacted copy of `value`. `actorId` names actor references found in the
 * data (default: their `sessionId`).
 */
export function toJsonSafe(
  value: unknown,
  limits: JsonSafeLimits = {},
  actorId: (ref: ActorLike) => string = (ref) => ref.sessionId,
): unknown {
  const maxDepth = limits.maxDepth ?? 8;
  const maxKeys = limits.maxKeys ?? 100;
  const maxItems = limits.maxItems ?? 50;
  const maxString = limits.maxString ?? 2_000;
  const maxNodes = limits.maxNodes ?? 5_000;
  const seen = new WeakSet<object>();
  let nodes = 0;

  const str = (text: string) => {
    const clipped = text.length > maxString ? `${text.slice(0, maxString)}… (${text.length} chars)` : text;
    return redactString(clipped);
  };

  const walk = (input: unknown, depth: number): unknown => {
    switch (typeof input) {
      case 'string':
        return str(input);
      case 'number':
        return Number.isFinite(input) ? input : String(input);
      case 'boolean':
        return input;
      case 'bigint':
        return input.toString();
      case 'undefined':
      case 'function':
      case 'symbol':
        return undefined;
    }
    if (input === null) return null;
    const object = input as object;
    if (seen.has(object)) return '[circular]';
    if (depth >= maxDepth || ++nodes > maxNodes) return '[…]';
    if (isActorLike(object)) return { $actor: actorId(object) };
    if (object instanceof Date) return Number.isNaN(object.getTime()) ? null : object.toISOString();
    if (object instanceof Error) {
      const out: Record<string, unknown> = { name: object.name, message: str(object.message) };
      const code = (object as { code?: unknown }).code;
      if (typeof code === 'string' || typeof code === 'number') out.code = code;
      return out;
    }
    if (typeof AbortSignal !== 'undefined' && object instanceof AbortSignal)
      return { aborted: object.aborted };
    seen.add(object);
    try {
      if (Array.isArray(object) || object instanceof Set) {
        const items = Array.isArray(object) ? object : [...object];
        const out = items.slice(0, maxItems).map((item) => {
          const safe = walk(item, depth + 1);
          return safe === undefined ? null : safe;
        });
        if (items.length > maxItems) out.push(`… ${items.length - maxItems} more`);
        return out;
      }
      const entries: [string, unknown][] =
        object instanceof Map
          ? [...object.entries()].map(([k, v]) => [String(k), v])
          : Object.keys(object).map((k) => [k, (object as Record<string, unknown>)[k]]);
      const out: Record<string, unknown> = {};
      let kept = 0;
      for (const [key, item] of entries) {
        if (kept >= maxKeys) {
          out['…'] = `${entries.length - maxKeys} more keys`;
          break;
        }
        if (isSecretKey(key)) {
          if (item !== undefined && item !== null && item !== '') out[key] = REDACTED;
          kept++;
          continue;
        }
        const safe = walk(item, depth + 1);
        if (safe === undefined) continue;
        out[key] = safe;
        kept++;
      }
      return out;
    } finally {
      seen.delete(object);
    }
  };
  return walk(value, 0);
}
