/*
 * Backend kind `mcp`: MCP servers (stdio or Streamable HTTP) as upstreams of the bridge. See
 * docs/mcp-backends.md for the configuration and the behaviour.
 */
import type { BackendKindPlugin } from '../kind.js';
import { FAILURE_RATE_RULE } from '../kinds/breaker-rules.js';
import { withBreakerRule } from '../kinds/schema.js';
import { createMcpBackend } from './backend.js';
import { type McpBackendConfig, mcpConfigSchema } from './config.js';

export { createMcpBackend, type McpBackend } from './backend.js';
export { type McpBackendConfig, mcpConfigSchema } from './config.js';
export { McpCallTimeoutError, McpUnknownToolError } from './errors.js';

/** The `mcp` backend kind for the bridge's registry of kinds. */
export const mcpKind: BackendKindPlugin<McpBackendConfig> = {
  kind: 'mcp',
  configSchema: mcpConfigSchema,
  defaultBreakerRule: FAILURE_RATE_RULE,
  create: (name, config, deps) =>
    createMcpBackend(name, { ...config, breaker: withBreakerRule(config.breaker, FAILURE_RATE_RULE) }, deps),
};
