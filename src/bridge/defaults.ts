import type { BackendConfig } from './types.js';

/** A default backend: its kind and URL are known. */
export interface DefaultBackend extends BackendConfig {
  kind: 'websocket' | 'http';
  url: string;
  critical: boolean;
}

/** Names of the default backends and the environment key of each (`MCP_LIFELINE_<KEY>_URL`). */
export const BACKEND_ENV_KEYS: Readonly<Record<string, string>> = Object.freeze({
  evolution: 'EVOLUTION',
  agents: 'AGENTS',
  a2a: 'A2A',
  lmStudio: 'LMSTUDIO',
});

/** Socket options per default backend: reconnect policy and request timeout. */
export const DEFAULT_SOCKET_OPTIONS: Readonly<
  Record<string, { retryPolicy: string; requestTimeoutMs: number }>
> = Object.freeze({
  evolution: { retryPolicy: 'connectEvolutionSocket', requestTimeoutMs: 60_000 },
  agents: { retryPolicy: 'connectAgentSocket', requestTimeoutMs: 10_000 },
  a2a: { retryPolicy: 'sendA2AMessage', requestTimeoutMs: 30_000 },
});

/**
 * The backends of the earlier bridge, as design.md lists them. Only `lmStudio` is critical. The
 * sockets carry their `DEFAULT_SOCKET_OPTIONS` (a given `options` is merged over them).
 */
export const DEFAULT_BACKENDS: Readonly<Record<string, Readonly<DefaultBackend>>> = Object.freeze({
  evolution: Object.freeze({
    kind: 'websocket',
    url: 'ws://localhost:8765/evolution',
    critical: false,
    options: DEFAULT_SOCKET_OPTIONS.evolution,
  }),
  agents: Object.freeze({
    kind: 'websocket',
    url: 'ws://localhost:8765/agents',
    critical: false,
    options: DEFAULT_SOCKET_OPTIONS.agents,
  }),
  a2a: Object.freeze({
    kind: 'websocket',
    url: 'ws://localhost:8765/a2a',
    critical: false,
    options: DEFAULT_SOCKET_OPTIONS.a2a,
  }),
  lmStudio: Object.freeze({ kind: 'http', url: 'http://localhost:1234/v1', critical: true }),
});

export const DEFAULT_HEALTH_CHECK_INTERVAL_MS = 10_000;
export const DEFAULT_HEALTH_CHECK_JITTER = 0.1;

/** How long a backend that failed must stay healthy before its health line turns `pass` again. */
export const DEFAULT_HEALTH_SETTLE_MS = 2_000;
