/*
 * The `backends.<name>` entry of kind `webmcp-page`, validated with zod. Errors name the field at
 * fault (`cdpUrl`, `allowWrite.1`, …).
 */
import { z } from 'zod';
import { breakerSetting } from '../kinds/schema.js';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

const httpUrl = (what: string) =>
  z
    .string({ error: `${what} must be a string` })
    .refine((value) => URL.canParse(value), { error: `${what} must be an absolute URL` })
    .refine((value) => !URL.canParse(value) || /^(https?|wss?):$/.test(new URL(value).protocol), {
      error: `${what} must be http(s):// or ws(s)://`,
    });

const positiveMs = z.number().int().positive();

/** The config of one `webmcp-page` backend. */
export const webMcpPageConfigSchema = z
  .object({
    kind: z.literal('webmcp-page'),
    /**
     * The browser's remote-debugging endpoint (`chromium --remote-debugging-port=9222` →
     * `http://127.0.0.1:9222`). Only loopback hosts unless `allowRemoteCdp` is true: CDP gives full
     * control of the browser and its sessions.
     */
    cdpUrl: httpUrl('cdpUrl'),
    /** The tab is the first whose URL starts with this; its tools must come from this URL's origin. */
    pageUrl: httpUrl('pageUrl').refine(
      (value) => !URL.canParse(value) || /^https?:$/.test(new URL(value).protocol),
      {
        error: 'pageUrl must be http(s)://',
      },
    ),
    /**
     * Tools that may run although the page does not mark them `readOnlyHint`, by name, or `"*"` for
     * all. Default none: the page runs with the user's own sessions.
     */
    allowWrite: z.union([z.literal('*'), z.array(z.string().min(1))]).default([]),
    /** Open `pageUrl` in a new tab when no tab shows it. Default true. */
    openPage: z.boolean().default(true),
    /** Accept a `cdpUrl` that is not on this machine. Default false. */
    allowRemoteCdp: z.boolean().default(false),
    /** How long calls wait for a navigated page to register the tool again. Default 5 000 ms. */
    reloadWaitMs: positiveMs.default(5_000),
    /** Bound of one tool call. Default 60 000 ms. */
    callTimeoutMs: positiveMs.default(60_000),
    /** Bound of one attach (connect, find or open the tab). Default 10 000 ms. */
    attachTimeoutMs: positiveMs.default(10_000),
    /** Re-attach backoff after the tab or the browser is lost. Defaults 250 ms and 10 000 ms. */
    reattach: z
      .object({ baseDelayMs: positiveMs.default(250), maxDelayMs: positiveMs.default(10_000) })
      .default({ baseDelayMs: 250, maxDelayMs: 10_000 }),
    /** Breaker settings (its name is the backend's). */
    breaker: breakerSetting,
    /** The bridge's own fields, accepted here so a whole entry validates. */
    critical: z.boolean().optional(),
    enabled: z.boolean().optional(),
  })
  .superRefine((config, ctx) => {
    if (!config.allowRemoteCdp && URL.canParse(config.cdpUrl) && !isLoopbackUrl(config.cdpUrl)) {
      ctx.addIssue({
        code: 'custom',
        path: ['cdpUrl'],
        message: 'cdpUrl must be on this machine (127.0.0.1, localhost, [::1]) unless allowRemoteCdp is true',
      });
    }
  });

/** A validated `webmcp-page` entry (defaults filled in). */
export type WebMcpPageConfig = z.output<typeof webMcpPageConfigSchema>;
/** A `webmcp-page` entry as written in a config file. */
export type WebMcpPageConfigInput = z.input<typeof webMcpPageConfigSchema>;

/** Whether `url`'s host is this machine. */
export function isLoopbackUrl(url: string): boolean {
  return LOOPBACK_HOSTS.has(new URL(url).hostname);
}

/** Parses an entry; throws a `z.ZodError` whose issues name the field at fault. */
export function parseWebMcpPageConfig(entry: unknown): WebMcpPageConfig {
  return webMcpPageConfigSchema.parse(entry);
}
