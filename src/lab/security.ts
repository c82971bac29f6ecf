import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]']);

/** `http://127.0.0.1:*`, `http://localhost:*` and `http://[::1]:*` are the only origins allowed. */
export function isLoopbackOrigin(origin: string): boolean {
  return /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d{1,5})?$/i.test(origin);
}

/**
 * Why a request must be refused (403), or null. `Host` must name a loopback address (or the host
 * the server was bound to) on the server's port — a defence against DNS rebinding; a present
 * `Origin` must be a loopback origin. Servers bound to a wildcard address skip the Host check.
 */
export function checkHostAndOrigin(req: IncomingMessage, boundHost: string, port: number): string | null {
  const host = req.headers.host;
  if (!WILDCARD_HOSTS.has(boundHost)) {
    if (!host) return 'missing Host header';
    let hostname: string;
    let hostPort: string;
    try {
      const parsed = new URL(`http://${host}`);
      hostname = parsed.hostname.toLowerCase();
      hostPort = parsed.port;
    } catch {
      return 'malformed Host header';
    }
    const allowed = LOOPBACK_NAMES.has(hostname) || hostname === boundHost.toLowerCase();
    if (!allowed) return `Host ${host} is not allowed`;
    if (hostPort !== '' && Number(hostPort) !== port) return `Host ${host} names another port`;
  }
  const origin = req.headers.origin;
  if (origin !== undefined && !isLoopbackOrigin(origin)) return `Origin ${origin} is not allowed`;
  return null;
}

/** Compares a request's `Authorization: Bearer <token>` with the expected token in constant time. */
export function hasBearerToken(req: IncomingMessage, token: string): boolean {
  const header = req.headers.authorization;
  if (typeof header !== 'string') return false;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match?.[1]) return false;
  const given = Buffer.from(match[1]);
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
