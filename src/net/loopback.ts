/*
 * Net: the one Host/Origin check of every server we run (MCP over HTTP, the inspector, the lab).
 * Pure functions of header values: no imports, browser-safe.
 */

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];
const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]']);

/** True for `127.0.0.1`, `localhost`, `::1` (with or without brackets) and other 127.x addresses. */
export function isLoopbackHost(host: string): boolean {
  const name = host.toLowerCase();
  return LOOPBACK_NAMES.includes(name) || name === '::1' || /^127(\.\d{1,3}){3}$/.test(name);
}

/** An `http:` or `https:` origin on a loopback host (any port); `null` and malformed origins are not. */
export function isLoopbackOrigin(origin: string): boolean {
  if (!URL.canParse(origin)) return false;
  const url = new URL(origin);
  return (url.protocol === 'http:' || url.protocol === 'https:') && isLoopbackHost(url.hostname);
}

/** `[::1]` for an IPv6 literal, the host unchanged otherwise (as it goes before `:port`). */
export function bracket(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/**
 * The `Host` header values a server bound to `boundHost:port` answers: `host:port` itself and, for a
 * loopback address, the other loopback names on that port (they cannot be rebound by a foreign DNS
 * name). A wildcard address (0.0.0.0, ::) is reachable under any name: 'any'.
 */
export function hostHeadersFor(boundHost: string, port: number): readonly string[] | 'any' {
  if (WILDCARD_HOSTS.has(boundHost)) return 'any';
  const own = `${bracket(boundHost)}:${port}`.toLowerCase();
  if (!isLoopbackHost(boundHost)) return [own];
  return [...new Set([own, ...LOOPBACK_NAMES.map((name) => `${name}:${port}`)])];
}

export interface HostOriginPolicy {
  /** `Host` header values accepted (`host:port`, as `hostHeadersFor` gives them), or 'any'. */
  allowedHosts: readonly string[] | 'any';
  /** Origins accepted besides loopback ones (exact strings, e.g. 'https://app.example'). Default none. */
  allowedOrigins?: readonly string[];
}

/**
 * Why a request must be refused (403), or null. `Host` must be one of `allowedHosts` (a defence
 * against DNS rebinding; a Host without a port means port 80); an `Origin`, when present, must be a
 * loopback origin or one of `allowedOrigins` (cross-site requests).
 */
export function checkHostAndOrigin(
  headers: { host?: string | undefined; origin?: string | undefined },
  policy: HostOriginPolicy,
): string | null {
  if (policy.allowedHosts !== 'any') {
    const host = headers.host;
    if (!host) return 'Host header missing';
    const normalized = host.toLowerCase();
    const withPort = /:\d+$/.test(normalized) ? normalized : `${normalized}:80`;
    if (!policy.allowedHosts.includes(withPort)) return `Host "${host}" is not this server`;
  }
  const origin = headers.origin;
  if (origin !== undefined && !isLoopbackOrigin(origin) && !policy.allowedOrigins?.includes(origin)) {
    return `Origin "${origin}" is not allowed`;
  }
  return null;
}
