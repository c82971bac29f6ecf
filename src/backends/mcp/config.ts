/*
 * The `backends.<name>` entry of an MCP upstream (`kind: "mcp"`): a stdio server (`command`, `args`,
 * `env`, `cwd`) or a Streamable HTTP server (`url`, `headers`), never both.
 */
import { z } from 'zod';
import { breakerSetting, throttleSetting } from '../kinds/schema.js';

const positive = z.number().positive();

/** Validates one `backends.<name>` entry of kind `mcp`; issues carry the path of the field at fault. */
export const mcpConfigSchema = z
  .object({
    kind: z.literal('mcp'),
    /** Stdio: the program to run (e.g. `node`). */
    command: z.string().min(1).optional(),
    args: z.array(z.string()).optional(),
    /** Added to the bridge's environment for the child. Values are secrets: never logged. */
    env: z.record(z.string(), z.string()).optional(),
    cwd: z.string().min(1).optional(),
    /** Streamable HTTP: the server's MCP endpoint. Its query string and userinfo are secrets. */
    url: z.url({ protocol: /^https?$/ }).optional(),
    /** Sent with every HTTP request. Values are secrets: never logged. */
    headers: z.record(z.string(), z.string()).optional(),
    /** Tools are listed as `<prefix>__<tool>`. Default: the backend's name. */
    prefix: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only')
      .optional(),
    /** Only these tools are listed (default: all). */
    include: z.array(z.string()).optional(),
    /** These tools are not listed. */
    exclude: z.array(z.string()).optional(),
    /** Per call attempt. Default 60 000 ms. */
    timeoutMs: positive.optional(),
    /** The handshake and the first tool list. Default 10 000 ms. */
    initTimeoutMs: positive.optional(),
    /** A run shorter than this is a crash: the next restart waits longer. Default 10 000 ms. */
    minUptimeMs: z.number().min(0).optional(),
    /** SIGTERM, then SIGKILL after this grace. Default 2 000 ms. */
    killGraceMs: z.number().min(0).optional(),
    backoff: z
      .object({
        baseDelayMs: positive.optional(),
        maxDelayMs: positive.optional(),
        jitter: z.number().min(0).max(1).optional(),
      })
      .strict()
      .optional(),
    /** Retries of calls to tools that are safe to repeat (read-only or idempotent). Default 2. */
    maxRetries: z.number().int().min(0).optional(),
    /** The breaker (`{ rule, failureThreshold, resetTimeoutMs, … }`); default rule: failure rate. */
    breaker: breakerSetting,
    critical: z.boolean().optional(),
    /** Adaptive throttling (`{ k, windowMs, minimumRequests }`), or `false`. On by default. */
    throttle: throttleSetting,
  })
  .strict()
  .superRefine((config, ctx) => {
    if (config.command === undefined && config.url === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['command'],
        message: 'give either `command` (stdio) or `url` (HTTP)',
      });
    if (config.command !== undefined && config.url !== undefined)
      ctx.addIssue({ code: 'custom', path: ['url'], message: '`url` and `command` exclude each other' });
    const stdioOnly = ['args', 'env', 'cwd'] as const;
    if (config.url !== undefined)
      for (const key of stdioOnly)
        if (config[key] !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: `\`${key}\` is for stdio servers (with \`command\`)`,
          });
    if (config.command !== undefined && config.headers !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['headers'],
        message: '`headers` is for HTTP servers (with `url`)',
      });
  });

/** A validated `backends.<name>` entry of kind `mcp`. */
export type McpBackendConfig = z.infer<typeof mcpConfigSchema>;

/** The values that must never appear in logs, errors or health: env and header values, URL secrets. */
export function secretsOf(config: McpBackendConfig): string[] {
  const secrets = [...Object.values(config.env ?? {}), ...Object.values(config.headers ?? {})];
  for (const value of Object.values(config.headers ?? {})) {
    // `Bearer abc` is redacted whole and as its token.
    const token = value.split(/\s+/).at(-1);
    if (token) secrets.push(token);
  }
  if (config.url) {
    const url = new URL(config.url);
    if (url.password) secrets.push(url.password, decodeURIComponent(url.password));
    if (url.username) secrets.push(url.username);
    for (const [, value] of url.searchParams) secrets.push(value);
    if (url.search) secrets.push(url.search);
  }
  // Short values ("1", "true") would redact ordinary words; longest first so overlaps go whole.
  return [...new Set(secrets)].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
}

/** Replaces every secret in `text` with `[redacted]`. */
export function redactor(secrets: readonly string[]): (text: string) => string {
  if (secrets.length === 0) return (text) => text;
  return (text) => {
    let out = text;
    for (const secret of secrets) out = out.split(secret).join('[redacted]');
    return out;
  };
}

/** The URL to show: origin and path, without userinfo, query or fragment. */
export function displayUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}
