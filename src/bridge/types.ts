import type { AnyActorRef, InspectionEvent, Observer } from 'xstate';
import type { FetchLike, HttpBackendOptions } from '../backends/http.js';
import type { AnyBackendKindPlugin } from '../backends/kind.js';
import type { BreakerSetting } from '../backends/kinds/schema.js';
import type { SocketBackendOptions, WebSocketConstructor } from '../backends/socket.js';
import type { Backend, HealthReport } from '../backends/types.js';
import type { Clock } from '../clock.js';
import type { RetryMetrics } from '../reliability/retry-metrics.js';
import type { ReliabilityEvents } from '../telemetry/events.js';
import type { ToolResult } from '../tools/result.js';
import type { CallToolOptions, ToolDefinition, ToolDescriptor, ToolInputSchema } from '../tools/types.js';

export type { HealthReport } from '../backends/types.js';
export type { ErrorCode, ToolResult } from '../tools/result.js';
export type { CallToolOptions, ToolDescriptor, ToolProgress } from '../tools/types.js';

/** What `bridge.reconfigure` did, by backend name. */
export interface ReconfigureResult {
  added: string[];
  removed: string[];
  /** Stopped and created again with changed settings. */
  restarted: string[];
  unchanged: string[];
}

export type HealthListener = (report: HealthReport, previous: HealthReport) => void;

export interface Bridge {
  start(): Promise<void>;
  stop(): Promise<void>;
  health(): HealthReport;
  /** Fires only when some backend's `status`, `state` or `breaker` changed, never for an idle tick. */
  onHealthChange(listener: HealthListener): () => void;
  listTools(): ToolDescriptor[];
  /**
   * Called whenever `listTools()` changed (a tool registered or removed, a backend's tool list
   * changed). Returns an unsubscribe function. The MCP surface sends `notifications/tools/list_changed`.
   */
  onToolsChanged(listener: () => void): () => void;
  /** Validates `args` and runs the tool; never rejects: failures come back as `{ success: false, … }`. */
  callTool(name: string, args: unknown, options?: CallToolOptions): Promise<ToolResult>;
  /** The orchestrator actor. */
  readonly actor: AnyActorRef;
  /**
   * Adds a host tool. It is validated and protected like the built-in ones: `backend` names the backend
   * whose breaker and health gate `ctx.run`, `operation` the retry policy. Throws `TypeError` for an
   * invalid or duplicate name. Returns a function that removes the tool.
   */
  registerTool<S extends ToolInputSchema>(tool: ToolDefinition<S>): () => void;
  /**
   * Tells the bridge that a tool surface (`'webmcp'` page registration, `'mcp'` server, …) is up or
   * down: the `webmcp` line of the health report passes while any surface is up.
   */
  setSurface(surface: string, up: boolean): void;
  /** A configured backend by name. */
  backend(name: string): Backend | undefined;
  backendNames(): string[];
  /**
   * Hot reload: applies `config.backends` (validated like `createBridge`'s; other settings are
   * ignored). Backends not in it are stopped and removed, new ones created (and started when the
   * bridge runs), those whose settings changed restarted; the rest keep running untouched. Tool
   * lists follow (`onToolsChanged`). Rejects with `ConfigError` naming the field, before any change, for an
   * invalid config. Calls are applied one after another.
   */
  reconfigure(config: Pick<BridgeConfig, 'backends'>): Promise<ReconfigureResult>;
  /** The registry every retried call of this bridge records into. */
  readonly retryMetrics: RetryMetrics;
  /** Retries, attempts and breaker transitions as they happen (for telemetry: `instrumentBridge`). */
  readonly reliabilityEvents: ReliabilityEvents;
}

/** A logger for the bridge and its backends. Default: `console`. */
export interface BridgeLogger {
  warn(message: string, details?: Record<string, unknown>): void;
  info?(message: string, details?: Record<string, unknown>): void;
  error?(message: string, details?: Record<string, unknown>): void;
  debug?(message: string, details?: Record<string, unknown>): void;
}

/** One backend's configuration. */
export interface BackendConfig {
  /**
   * The backend's kind (`websocket`, `http`, or a plug-in kind: `mcp`, `webmcp-page`, …). Required for
   * backends other than the four defaults (whose kind is known). The kind's `configSchema` validates
   * the rest of the entry.
   */
  kind?: string;
  /** ws:// or wss:// for sockets, http:// or https:// for HTTP backends. */
  url?: string;
  /** A critical backend that fails makes the whole report `fail`. Default: only `lmStudio`. */
  critical?: boolean;
  /** `false` leaves the backend out. */
  enabled?: boolean;
  /** Passed to `createSocketBackend` / `createHttpBackend` (timeouts, breaker, retry, heartbeat…). */
  options?:
    | Partial<Omit<SocketBackendOptions, 'name' | 'url'>>
    | Partial<Omit<HttpBackendOptions, 'name' | 'baseUrl'>>;
  /**
   * The backend's circuit breaker: `rule` (`{ kind: 'consecutive' }` or `{ kind: 'failureRate',
   * failureRateThreshold, minimumCalls, window }`), `failureThreshold`, `resetTimeoutMs`,
   * `halfOpenMaxCalls`, `successThreshold`, `resetJitter`; over `options.breaker`. Default rule: the
   * kind's (failure rate for `http` and `mcp`, consecutive for `websocket` and `webmcp-page`), or the
   * consecutive rule when `failureThreshold` is given.
   */
  breaker?: BreakerSetting;
  /** A plug-in kind's own settings (`command`, `args`, `cdpUrl`, …). */
  [setting: string]: unknown;
}

/** Options of `createBridge`; every field is optional. */
export interface BridgeConfig {
  /**
   * Merged over the defaults by name: `evolution` ws://localhost:8765/evolution, `agents`
   * ws://localhost:8765/agents, `a2a` ws://localhost:8765/a2a, `lmStudio` http://localhost:1234/v1.
   */
  backends?: Record<string, BackendConfig>;
  /**
   * Backend kinds by which `backends.<name>.kind` is built, added to (or replacing, by `kind`) the
   * built-in `websocket` and `http` kinds: plug `mcp` or `webmcp-page` in here.
   */
  kinds?: readonly AnyBackendKindPlugin[];
  /** Mean time between active health checks. Default 10 000 ms. */
  healthCheckIntervalMs?: number;
  /** Relative spread of that time, in [0, 1). Default 0.1 (±10 %). */
  healthCheckJitter?: number;
  /**
   * Health fails fast and recovers slowly: a backend that failed turns `pass` again only after it
   * stayed healthy this long (its line shows `recoveringUntil` meanwhile). Default 2 000 ms; 0 turns
   * it `pass` at once.
   */
  healthSettleMs?: number;
  /** Include the `webmcp` line (the tool surface) in the health report. Default true. */
  surface?: boolean;
  clock?: Clock;
  /** Source of every jitter and id. Default `Math.random`. */
  random?: () => number;
  /**
   * WebSocket constructor for socket backends. Default: `globalThis.WebSocket` in browsers; in Node,
   * `ws` loaded on first connect (or use `createNodeBridge` from `src/bridge/node.ts`).
   */
  WebSocket?: WebSocketConstructor;
  /** `fetch` for HTTP backends. Default `globalThis.fetch`. */
  fetch?: FetchLike;
  /** XState inspection observer given to every actor: orchestrator, backends, breakers, retries. */
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
  logger?: BridgeLogger;
  /** Limit of `send_llm_prompt`'s `prompt`, in characters. Default 100 000. */
  maxPromptChars?: number;
  /** `from_agent` of A2A messages. Default 'mcp-lifeline'. */
  agentId?: string;
  /** The data directory (absolute), given to backends as `deps.dataDir` (last known tool lists, …). */
  dataDir?: string;
}
