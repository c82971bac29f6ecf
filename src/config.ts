/*
 * Node-only: loads the bridge configuration from `mcp-lifeline.config.json` (or `--config FILE`), the
 * environment and explicit overrides, in that order of precedence (later wins), validated with zod.
 * A bad value throws `ConfigError` naming the key, e.g. `backends.lmStudio.url: expected a URL`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import type { AnyBackendKindPlugin } from './backends/kind.js';
import { builtInKinds } from './backends/kinds/index.js';
import {
  type BackendKindRegistry,
  backendKindRegistry,
  checkBackendConfig,
} from './backends/kinds/registry.js';
import { nodeKinds } from './backends/node-kinds.js';
import { BACKEND_ENV_KEYS, DEFAULT_BACKENDS } from './bridge/defaults.js';
import { ConfigError } from './bridge/errors.js';
import type { BackendConfig, BridgeConfig } from './bridge/types.js';
import { LEGACY_CONFIG_FILE_NAME, legacyConfigFileWarning, withLegacyEnv } from './legacy-names.js';

/** Looked for in the working directory when no `--config FILE` is given. */
export const CONFIG_FILE_NAME = 'mcp-lifeline.config.json';

/** One `backends.<name>` entry: an object here; its kind's `configSchema` checks the rest. */
const backendSchema = z.record(z.string(), z.unknown(), { error: 'expected an object' });

/** The serializable part of `BridgeConfig`: what a config file may contain. */
export const configFileSchema = z.strictObject({
  $schema: z.string().optional(),
  backends: z.record(z.string(), backendSchema, { error: 'expected an object' }).optional(),
  healthCheckIntervalMs: z
    .number({ error: 'expected a positive number of milliseconds' })
    .positive({ error: 'expected a positive number of milliseconds' })
    .optional(),
  healthSettleMs: z
    .number({ error: 'expected a number of milliseconds ≥ 0' })
    .min(0, { error: 'expected a number of milliseconds ≥ 0' })
    .optional(),
  healthCheckJitter: z
    .number({ error: 'expected a number in [0, 1)' })
    .min(0, { error: 'expected a number in [0, 1)' })
    .lt(1, { error: 'expected a number in [0, 1)' })
    .optional(),
  surface: z.boolean({ error: 'expected true or false' }).optional(),
  maxPromptChars: z
    .number({ error: 'expected a positive integer' })
    .int({ error: 'expected a positive integer' })
    .positive({ error: 'expected a positive integer' })
    .optional(),
  agentId: z
    .string({ error: 'expected a string' })
    .min(1, { error: 'expected a non-empty string' })
    .optional(),
  /** `serve --http` settings: extra `Host` values and origins the HTTP server accepts. */
  http: z
    .strictObject({
      allowedHosts: z
        .array(z.string({ error: 'expected a host name or host:port' }).min(1), {
          error: 'expected an array of host names',
        })
        .optional(),
      allowedOrigins: z
        .array(z.string({ error: 'expected an origin such as https://app.example' }).min(1), {
          error: 'expected an array of origins',
        })
        .optional(),
    })
    .optional(),
  /** Directory for breaker states and the durable A2A outbox (Node; see `withPersistence`). */
  dataDir: z
    .string({ error: 'expected a directory name' })
    .min(1, { error: 'expected a directory name' })
    .optional(),
});

export type ConfigFile = z.infer<typeof configFileSchema>;

/** `BridgeConfig` plus `dataDir` (an absolute path), which `withPersistence` turns into stores. */
export type LoadedConfig = BridgeConfig & { dataDir?: string; http?: ConfigFile['http'] };

export interface LoadConfigOptions {
  /**
   * Config file to read (`--config FILE`); it must exist. Default: `mcp-lifeline.config.json` in
   * `cwd`, if present (else the old name `webmcp-bridge.config.json`, with a deprecation line).
   */
  file?: string;
  /** Command-line arguments to take `--config FILE` / `--config=FILE` from (when `file` is not given). */
  argv?: readonly string[];
  /** Default `process.cwd()`. */
  cwd?: string;
  /** Default `process.env` (`WEBMCP_BRIDGE_*` read as `MCP_LIFELINE_*`, deprecated). Reads `MCP_LIFELINE_<EVOLUTION|AGENTS|A2A|LMSTUDIO>_URL` and `MCP_LIFELINE_HEALTH_CHECK_INTERVAL_MS`, `MCP_LIFELINE_DATA_DIR`. */
  env?: Record<string, string | undefined>;
  /** Applied last (not validated beyond what `createBridge` checks). */
  overrides?: LoadedConfig;
  /** More backend kinds, validated beside `websocket`, `http`, `mcp` and `webmcp-page` (known without this). */
  kinds?: readonly AnyBackendKindPlugin[];
  /**
   * Told about old names in use (`WEBMCP_BRIDGE_*` variables, `webmcp-bridge.config.json`), one
   * line each. Default: a line on stderr.
   */
  onDeprecation?: (message: string) => void;
}

function keyOf(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '(config)' : path.map(String).join('.');
}

/** Every kind Node knows (`websocket`, `http`, `mcp`, `webmcp-page`): what entries are checked with. */
const BUILT_IN_KINDS = backendKindRegistry(builtInKinds(), nodeKinds());

function validate(value: unknown, where: string, kinds: BackendKindRegistry = BUILT_IN_KINDS): ConfigFile {
  const parsed = configFileSchema.safeParse(value);
  if (parsed.success) {
    if (parsed.data.backends)
      checkBackends(parsed.data.backends as Record<string, BackendConfig>, where, kinds);
    return parsed.data;
  }
  const issue = parsed.error.issues[0];
  if (!issue) throw new ConfigError('(config)', `invalid ${where}`);
  const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0] ?? ''] : issue.path;
  const problem = issue.code === 'unrecognized_keys' ? 'unknown setting' : issue.message;
  throw new ConfigError(keyOf(path), `${problem} (${where})`);
}

/**
 * Each entry (over its default, for the four default backends) is valid for its kind's
 * `configSchema`. An entry with no kind yet is left to `createBridge` (another layer may give it).
 */
function checkBackends(
  backends: Record<string, BackendConfig>,
  where: string,
  kinds: BackendKindRegistry,
): void {
  for (const [name, given] of Object.entries(backends)) {
    const base = DEFAULT_BACKENDS[name];
    if ((given.kind ?? base?.kind) === undefined) continue;
    const entry =
      base && (given.kind === undefined || given.kind === base.kind) ? { ...base, ...given } : given;
    const check = checkBackendConfig(name, entry, kinds);
    if (!check.ok) throw new ConfigError(check.problem.key, `${check.problem.message} (${where})`);
  }
}

function configPathFrom(argv: readonly string[] | undefined): string | undefined {
  if (!argv) return undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--config') {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--'))
        throw new ConfigError('--config', 'expected a file name');
      return next;
    }
    if (arg.startsWith('--config=')) return arg.slice('--config='.length);
  }
  return undefined;
}

function readFile(path: string, kinds: BackendKindRegistry = BUILT_IN_KINDS): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError('--config', `cannot read ${path}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError('(config)', `${path} is not valid JSON: ${(error as Error).message}`);
  }
  return validate(json, path, kinds);
}

function fromEnv(env: Record<string, string | undefined>): ConfigFile {
  const config: ConfigFile = {};
  for (const [name, key] of Object.entries(BACKEND_ENV_KEYS)) {
    const variable = `MCP_LIFELINE_${key}_URL`;
    const value = env[variable];
    if (value === undefined || value === '') continue;
    const checked = validate({ backends: { [name]: { url: value } } }, `from ${variable}`);
    config.backends = { ...(config.backends ?? {}), ...(checked.backends ?? {}) };
  }
  const interval = env.MCP_LIFELINE_HEALTH_CHECK_INTERVAL_MS;
  if (interval !== undefined && interval !== '') {
    const number = Number(interval);
    config.healthCheckIntervalMs = validate(
      { healthCheckIntervalMs: Number.isNaN(number) ? interval : number },
      'from MCP_LIFELINE_HEALTH_CHECK_INTERVAL_MS',
    ).healthCheckIntervalMs;
  }
  const dataDir = env.MCP_LIFELINE_DATA_DIR;
  if (dataDir !== undefined && dataDir !== '') config.dataDir = dataDir;
  return config;
}

function mergeBackends(
  ...layers: (Record<string, BackendConfig> | undefined)[]
): Record<string, BackendConfig> | undefined {
  let merged: Record<string, BackendConfig> | undefined;
  for (const layer of layers) {
    if (!layer) continue;
    merged ??= {};
    for (const [name, backend] of Object.entries(layer)) {
      const before = merged[name] ?? {};
      merged[name] = {
        ...before,
        ...backend,
        ...(before.options || backend.options
          ? { options: { ...(before.options ?? {}), ...(backend.options ?? {}) } }
          : {}),
        ...(before.breaker || backend.breaker
          ? { breaker: { ...(before.breaker ?? {}), ...(backend.breaker ?? {}) } }
          : {}),
      };
    }
  }
  return merged;
}

/**
 * Reads the configuration: `file` (or `--config FILE` in `argv`, or `mcp-lifeline.config.json` in
 * `cwd` when present), then the environment, then `overrides`. Throws `ConfigError` naming the key
 * at fault. The result is ready for `createBridge`.
 */
export function loadConfig(options: LoadConfigOptions = {}): LoadedConfig {
  const cwd = options.cwd ?? process.cwd();
  const deprecated =
    options.onDeprecation ?? ((message: string) => process.stderr.write(`mcp-lifeline: ${message}\n`));
  const env = withLegacyEnv(options.env ?? process.env, deprecated);
  const explicit = options.file ?? configPathFrom(options.argv);
  let file: ConfigFile = {};
  const kinds = options.kinds
    ? backendKindRegistry(builtInKinds(), nodeKinds(), [...options.kinds])
    : BUILT_IN_KINDS;
  if (explicit !== undefined) file = readFile(resolve(cwd, explicit), kinds);
  else {
    const fallback = resolve(cwd, CONFIG_FILE_NAME);
    const legacy = resolve(cwd, LEGACY_CONFIG_FILE_NAME);
    if (existsSync(fallback)) file = readFile(fallback, kinds);
    else if (existsSync(legacy)) {
      deprecated(legacyConfigFileWarning(legacy, CONFIG_FILE_NAME));
      file = readFile(legacy, kinds);
    }
  }
  const environment = fromEnv(env);
  const overrides = options.overrides ?? {};
  const { $schema: _schema, backends: fileBackends, ...fileRest } = file;
  const backends = mergeBackends(
    fileBackends as Record<string, BackendConfig> | undefined,
    environment.backends as Record<string, BackendConfig> | undefined,
    overrides.backends,
  );
  if (options.overrides?.backends) checkBackends(options.overrides.backends, 'overrides', kinds);
  const { backends: _envBackends, $schema: _envSchema, ...envRest } = environment;
  const config = {
    ...fileRest,
    ...envRest,
    ...overrides,
    ...(backends ? { backends } : {}),
  } as LoadedConfig;
  if (config.dataDir !== undefined) config.dataDir = resolve(cwd, config.dataDir);
  return config;
}
