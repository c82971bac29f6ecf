/*
 * The `webmcp-page` backend kind: a browser tab's WebMCP tools, reached over the Chrome DevTools
 * Protocol. Node-only (it loads playwright-core on first attach).
 */
import type { BackendKindPlugin } from '../kind.js';
import { CONSECUTIVE_RULE } from '../kinds/breaker-rules.js';
import { withBreakerRule } from '../kinds/schema.js';
import { createWebMcpPageBackend } from './backend.js';
import { type WebMcpPageConfig, webMcpPageConfigSchema } from './config.js';

export { createWebMcpPageBackend, type WebMcpPageBackend } from './backend.js';
export {
  parseWebMcpPageConfig,
  type WebMcpPageConfig,
  type WebMcpPageConfigInput,
  webMcpPageConfigSchema,
} from './config.js';
export { WebMcpPageNavigatedError, WebMcpToolNotFoundError, WebMcpWriteRefusedError } from './errors.js';
export { UNTRUSTED_META_KEY, untrustedPrefix } from './results.js';

/**
 * `{ "kind": "webmcp-page", "cdpUrl": "http://127.0.0.1:9222", "pageUrl": "http://127.0.0.1:5173/",
 * "allowWrite": ["name", …] | "*" }`: the tab of a browser run with `--remote-debugging-port` whose
 * URL starts with `pageUrl`; its tools are listed as `<backend>__<tool>`.
 */
export const webmcpPageKind: BackendKindPlugin<WebMcpPageConfig> = {
  kind: 'webmcp-page',
  configSchema: webMcpPageConfigSchema,
  defaultBreakerRule: CONSECUTIVE_RULE,
  create: (name, config, deps) =>
    createWebMcpPageBackend(
      name,
      { ...config, breaker: withBreakerRule(config.breaker, CONSECUTIVE_RULE) },
      deps,
    ),
};
