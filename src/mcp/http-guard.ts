/*
 * The checks every request of the MCP HTTP server passes before any MCP processing: `Host` (DNS
 * rebinding), `Origin` (cross-site) and, when a token is configured, `Authorization: Bearer`
 * (compared in constant time). Pure functions of the request headers and the options.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

import { bracket, isLoopbackHost, isLoopbackOrigin } from '../net/loopback.js';

export { bracket, isLoopbackHost };

/**
 * Host header values accepted for a server bound to `host:port`, plus `extra` (configured
 * `allowedHosts`: `name` or `name:port`, e.g. the load balancer's address).
 */
export function allowedHostHeaders(host: string, port: number, extra: readonly string[] = []): Set<string> {
  const values = new Set([`${bracket(host)}:${port}`.toLowerCase()]);
  // `localhost` names the same loopback interface and cannot be rebound by a foreign DNS name.
  if (isLoopbackHost(host)) values.add(`localhost:${port}`);
  for (const value of extra) values.add(value.toLowerCase());
  return values;
}

/** Whether a request's `Host` header is one of `allowed` (a name without port matches any port). */
export function hostAllowed(header: string | undefined, allowed: ReadonlySet<string>): boolean {
  const value = (header ?? '').toLowerCase();
  if (allowed.has(value)) return true;
  const name = value.startsWith('[') ? value.slice(0, value.indexOf(']') + 1) : value.split(':')[0];
  return name !== undefined && name !== '' && allowed.has(name);
}

/** Whether `origin` is a loopback origin or one of `extra` (exact match, e.g. `https://app.example`). */
export function originAllowed(origin: string, extra: readonly string[]): boolean {
  return extra.includes(origin) || isLoopbackOrigin(origin);
}

/**
 * Whether the `Authorization` header carries `Bearer <token>`. Both sides are hashed first so the
 * comparison takes the same time whatever the length or content of the header.
 */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? '');
  const given = createHash('sha256')
    .update(match?.[1]?.trim() ?? '')
    .digest();
  const expected = createHash('sha256').update(token).digest();
  return timingSafeEqual(given, expected) && match !== null;
}
