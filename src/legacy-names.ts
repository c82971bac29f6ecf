/**
 * The names this package had as `webmcp-bridge` keep working, with a deprecation line each:
 * `WEBMCP_BRIDGE_*` environment variables (read as `MCP_LIFELINE_*`) and the config file
 * `webmcp-bridge.config.json` (read when `mcp-lifeline.config.json` is absent).
 */

export const LEGACY_ENV_PREFIX = 'WEBMCP_BRIDGE_';
export const ENV_PREFIX = 'MCP_LIFELINE_';
export const LEGACY_CONFIG_FILE_NAME = 'webmcp-bridge.config.json';

/**
 * `env` with every `WEBMCP_BRIDGE_X` also set as `MCP_LIFELINE_X` (unless that is set: the new name
 * wins). Calls `warn` once per old variable found, naming the new one. Returns `env` itself when
 * there is no old variable.
 */
export function withLegacyEnv<T extends Record<string, string | undefined>>(
  env: T,
  warn: (message: string) => void,
): T {
  const old = Object.keys(env).filter(
    (key) => key.startsWith(LEGACY_ENV_PREFIX) && env[key] !== undefined && env[key] !== '',
  );
  if (old.length === 0) return env;
  const mapped: Record<string, string | undefined> = { ...env };
  for (const key of old.sort()) {
    const name = `${ENV_PREFIX}${key.slice(LEGACY_ENV_PREFIX.length)}`;
    const current = env[name];
    if (current === undefined || current === '') {
      mapped[name] = env[key];
      warn(`${key} is deprecated: rename it to ${name}`);
    } else {
      warn(`${key} is deprecated and ignored: ${name} is set`);
    }
    delete mapped[key];
  }
  return mapped as T;
}

export function legacyConfigFileWarning(path: string, newName: string): string {
  return `${LEGACY_CONFIG_FILE_NAME} is deprecated: rename ${path} to ${newName}`;
}
