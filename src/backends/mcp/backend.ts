/*
 * An MCP upstream as a backend: one `mcpMachine` actor for its lifecycle, its own breaker, the SDK
 * `Client` over a supervised stdio child (see `stdio-transport.ts`) or Streamable HTTP.
 *
 * - The runtime follows the machine: entering CONNECTING spawns / connects (a new "session"), then
 *   sends CONNECTED, and INITIALIZED after the handshake and the tool list. Any fault of the current
 *   session (exit, broken pipe, garbage, refused connection, failed handshake) sends FAULT; leaving
 *   for RESTARTING or CLOSED terminates the session. The backoff runs on the machine's clock.
 * - The last known tool list stays listed while the upstream is down (saved in `deps.dataDir`); calls
 *   made while it is not READY answer at once with `BackendUnavailableError` (with `retryAfterMs`), and
 *   while its breaker is OPEN with `BrokenCircuitError`.
 * - A call runs through the breaker, with a timeout on the clock; the caller's signal is forwarded
 *   (the SDK sends `notifications/cancelled`). Tools annotated read-only or idempotent are retried
 *   after a timeout; others never. Results pass through unchanged; `isError: true` is the tool's answer,
 *   not a failure of the backend.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ErrorCode, McpError, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { createActor } from 'xstate';
import { type McpUpstreamState, mcpMachine } from '../../../machines/mcp.machine.js';
import { createCircuitBreaker } from '../../reliability/breaker.js';
import { retry } from '../../reliability/retry.js';
import { traceAttempts } from '../../telemetry/tracing.js';
import { createBackendThrottle } from '../backend-throttle.js';
import { BackendUnavailableError } from '../errors.js';
import type { BackendDeps, RemoteCallOptions, RemoteCallResult, RemoteTool, ToolProvider } from '../kind.js';
import type { Backend, BackendHealth, HealthStatus } from '../types.js';
import { requestToolCall } from './call.js';
import { displayUrl, type McpBackendConfig, redactor, secretsOf } from './config.js';
import {
  isRetryable,
  isUpstreamFailure,
  McpCallTimeoutError,
  McpUnknownToolError,
  shortMessage,
} from './errors.js';
import { createStderrLog } from './stderr-log.js';
import { SupervisedStdioTransport } from './stdio-transport.js';
import { createToolCache } from './tool-cache.js';
import { toolsEqual, toRemoteTools } from './tools.js';
import { createTransport } from './transport.js';

/** An MCP upstream: a `Backend` that provides the upstream's tools. */
export interface McpBackend extends Backend, ToolProvider {
  readonly kind: 'mcp';
  readonly toolPrefix: string;
  /** The machine's state now. */
  readonly state: McpUpstreamState;
  /** Pid of the supervised process group of a stdio upstream (its reaper), while one runs. */
  readonly pid: number | undefined;
}

interface Session {
  readonly id: number;
  readonly client: Client;
  readonly transport: Transport;
  /** Whether the session ended (closed by us or by a fault). */
  ended: boolean;
}

const statusOf: Record<McpUpstreamState, HealthStatus> = {
  IDLE: 'warn',
  CONNECTING: 'warn',
  INITIALIZING: 'warn',
  READY: 'pass',
  SUSPENDED: 'fail',
  RESTARTING: 'warn',
  CLOSED: 'fail',
};

/** Creates the backend; it connects on `start()`. `config` is a validated `mcpConfigSchema` entry. */
export function createMcpBackend(name: string, config: McpBackendConfig, deps: BackendDeps): McpBackend {
  const { clock, random, logger } = deps;
  const redact = redactor(secretsOf(config));
  const where = config.url ? displayUrl(config.url) : `${config.command} ${(config.args ?? []).join(' ')}`;
  const timeoutMs = config.timeoutMs ?? 60_000;
  const initTimeoutMs = config.initTimeoutMs ?? 10_000;
  const maxRetries = config.maxRetries ?? 2;
  const include = config.include ? new Set(config.include) : null;
  const exclude = new Set(config.exclude ?? []);
  const cache = createToolCache(deps.dataDir, name, (message) =>
    logger.warn(`mcp backend "${name}": ${redact(message)}`, { backend: name }),
  );
  const onStderr = createStderrLog({ backend: name, logger, redact, clock });

  let tools: RemoteTool[] = cache.load();
  let session: Session | null = null;
  let sessionCount = 0;
  let lastCheckAt: number | null = null;
  let lastSuccessAt: number | null = null;
  let latencyMs: number | null = null;
  let stopped = false;
  const listeners = new Set<() => void>();
  const toolListeners = new Set<() => void>();
  const inFlight = new Set<AbortController>();
  const notify = (set: Set<() => void>) => {
    for (const listener of [...set]) {
      try {
        listener();
      } catch (error) {
        logger.warn(`mcp backend "${name}": a listener threw`, { error: shortMessage(error) });
      }
    }
  };

  const throttle = createBackendThrottle(name, config.throttle, { clock, random });
  const breaker = createCircuitBreaker({
    name,
    ...config.breaker,
    resetJitter: config.breaker?.resetJitter ?? 0.2,
    random,
    clock,
    isFailure: isUpstreamFailure,
    ...(deps.inspect ? { inspect: deps.inspect } : {}),
  });

  const actor = createActor(mcpMachine, {
    input: {
      minUptimeMs: config.minUptimeMs ?? 10_000,
      baseDelayMs: config.backoff?.baseDelayMs ?? 250,
      maxDelayMs: config.backoff?.maxDelayMs ?? 30_000,
      jitter: config.backoff?.jitter ?? 0.5,
    },
    clock,
    ...(deps.inspect ? { inspect: deps.inspect } : {}),
  });

  const fault = (current: Session, problem: string) => {
    if (current.ended || session !== current) return;
    const error = redact(problem);
    lastCheckAt = clock.now();
    logger.warn(`mcp backend "${name}": ${error}`, { backend: name, state: actor.getSnapshot().value });
    actor.send({ type: 'FAULT', at: clock.now(), random: random(), error });
  };

  const setTools = (next: RemoteTool[]) => {
    if (toolsEqual(tools, next)) return;
    tools = next;
    cache.save(tools);
    notify(toolListeners);
  };

  const fetchTools = async (client: Client, signal?: AbortSignal): Promise<RemoteTool[]> => {
    const listed: unknown[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor ? { cursor } : {}, {
        ...(signal ? { signal } : {}),
        timeout: initTimeoutMs,
      });
      listed.push(...page.tools);
      cursor = page.nextCursor;
    } while (cursor);
    return toRemoteTools(listed);
  };

  /** Opens a session for CONNECTING and drives it to INITIALIZED, or sends FAULT. */
  const connect = async () => {
    const transport = createTransport(config, clock, onStderr);
    const client = new Client({ name: 'mcp-lifeline', version: '0.1.0' }, { capabilities: {} });
    const current: Session = { id: ++sessionCount, client, transport, ended: false };
    session = current;
    client.onclose = () => {
      const problem = transport instanceof SupervisedStdioTransport ? transport.problem : null;
      fault(current, problem ?? 'connection closed');
    };
    client.onerror = (error) => {
      logger.debug?.(`mcp backend "${name}": transport error: ${redact(shortMessage(error))}`, {
        backend: name,
      });
    };
    client.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
      if (current.ended || session !== current) return;
      try {
        setTools(await fetchTools(client));
      } catch (error) {
        logger.warn(
          `mcp backend "${name}": tools/list after list_changed failed: ${redact(shortMessage(error))}`,
          {
            backend: name,
          },
        );
      }
    });
    try {
      // Stdio: CONNECTED once the child runs (its start() is idempotent). HTTP has no connection
      // before the handshake (and its start() may run only once): CONNECTED at once.
      if (transport instanceof SupervisedStdioTransport) await transport.start();
      if (current.ended) return;
      actor.send({ type: 'CONNECTED', at: clock.now() });
      const started = clock.now();
      await client.connect(transport, { timeout: initTimeoutMs });
      const listed = await fetchTools(client);
      if (current.ended || session !== current) return;
      latencyMs = clock.now() - started;
      lastCheckAt = lastSuccessAt = clock.now();
      setTools(listed);
      logger.info?.(`mcp backend "${name}": ready (${listed.length} tools) at ${redact(where)}`, {
        backend: name,
      });
      actor.send({ type: 'INITIALIZED' });
    } catch (error) {
      const problem = transport instanceof SupervisedStdioTransport ? transport.problem : null;
      fault(current, problem ?? `cannot connect: ${shortMessage(error)}`);
    }
  };

  const endSession = () => {
    const current = session;
    if (!current || current.ended) return Promise.resolve();
    current.ended = true;
    session = null;
    return current.client.close().catch(() => current.transport.close().catch(() => {}));
  };

  let previous: McpUpstreamState = actor.getSnapshot().value;
  actor.subscribe((snapshot) => {
    const state = snapshot.value;
    if (state !== previous) {
      logger.info?.(`mcp backend "${name}": ${previous} → ${state}`, {
        backend: name,
        from: previous,
        to: state,
      });
      if (state === 'RESTARTING' || state === 'CLOSED') void endSession();
      if (state === 'CONNECTING') void connect();
      previous = state;
    }
    notify(listeners);
  });
  actor.start();

  let breakerState = breaker.state;
  breaker.onTransition(({ to }) => {
    if (to === breakerState) return;
    breakerState = to;
    actor.send({ type: breakerState === 'OPEN' ? 'BREAKER_OPENED' : 'BREAKER_CLOSED' });
    notify(listeners);
  });

  /** Rejects at once when the upstream cannot take a call now. */
  const unavailable = (): (BackendUnavailableError & { retryAfterMs: number }) | null => {
    const { value, context } = actor.getSnapshot();
    if (value === 'READY' || value === 'SUSPENDED') return null;
    const error = new BackendUnavailableError(name, value, context.lastError);
    const retryAfterMs =
      value === 'RESTARTING' && context.restartAt !== null ? Math.max(0, context.restartAt - clock.now()) : 0;
    return Object.assign(error, { retryAfterMs });
  };

  /** The server died mid-call: BACKEND_UNAVAILABLE with when to come back (the SDK error as `cause`). */
  const connectionLost = (cause: McpError): BackendUnavailableError => {
    const down = unavailable();
    const error = down ?? new BackendUnavailableError(name, 'CONNECTION_LOST', shortMessage(cause));
    const retryAfterMs = down?.retryAfterMs || (config.backoff?.baseDelayMs ?? 250);
    return Object.assign(error, { retryAfterMs, cause });
  };

  /** One attempt, inside the breaker. */
  const attempt = async (
    tool: string,
    args: Record<string, unknown>,
    signal: AbortSignal,
    options: RemoteCallOptions,
  ) => {
    const down = unavailable();
    if (down) throw down;
    const current = session as Session;
    const started = clock.now();
    try {
      const result = await requestToolCall({
        backend: name,
        client: current.client,
        tool,
        args,
        timeoutMs,
        clock,
        signal,
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      });
      latencyMs = clock.now() - started;
      lastCheckAt = lastSuccessAt = clock.now();
      throttle?.record(undefined);
      return result;
    } catch (error) {
      if (!signal.aborted) throttle?.record(error);
      if (isUpstreamFailure(error)) lastCheckAt = clock.now();
      // A lost HTTP session (refused connection, 404 session) needs a new session.
      if (config.url && isUpstreamFailure(error) && !(error instanceof McpCallTimeoutError))
        fault(current, `call failed: ${shortMessage(error)}`);
      throw error;
    }
  };

  const callTool = async (
    tool: string,
    args: Record<string, unknown>,
    options: RemoteCallOptions = {},
  ): Promise<RemoteCallResult> => {
    if (options.signal?.aborted) throw options.signal.reason;
    const down = unavailable();
    if (down) throw down;
    const known = tools.find((t) => t.name === tool);
    if (!known) throw new McpUnknownToolError(name, tool);
    const controller = new AbortController();
    const onCallerAbort = () => controller.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', onCallerAbort, { once: true });
    inFlight.add(controller);
    const once = traceAttempts(name, `${name}.callTool`, (_index: number, signal: AbortSignal) => {
      const throttled = throttle?.refusal(breaker.state === 'OPEN');
      if (throttled) return Promise.reject(throttled);
      return breaker.execute((s) => attempt(tool, args, s, options), { signal });
    });
    const safe = known.annotations?.readOnlyHint === true || known.annotations?.idempotentHint === true;
    try {
      if (!safe || maxRetries === 0) return await once(0, controller.signal);
      return await retry(once, {
        operation: `${name}.callTool`,
        maxRetries,
        baseDelayMs: 100,
        shouldRetry: isRetryable,
        signal: controller.signal,
        clock,
        random,
        metrics: deps.retryMetrics,
        budget: deps.budget,
      });
    } catch (error) {
      if (controller.signal.aborted) throw controller.signal.reason;
      if (error instanceof McpError && error.code === ErrorCode.ConnectionClosed) throw connectionLost(error);
      throw error;
    } finally {
      options.signal?.removeEventListener('abort', onCallerAbort);
      inFlight.delete(controller);
    }
  };

  const backend: McpBackend = {
    name,
    kind: 'mcp',
    breaker,
    actor,
    toolPrefix: config.prefix ?? name,
    get state() {
      return actor.getSnapshot().value;
    },
    get pid() {
      const transport = session?.transport;
      return transport instanceof SupervisedStdioTransport ? transport.pid : undefined;
    },
    start() {
      if (!stopped) actor.send({ type: 'START' });
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const controller of inFlight) controller.abort(new BackendUnavailableError(name, 'CLOSED'));
      const ending = session;
      actor.send({ type: 'STOP' });
      if (ending) await ending.transport.close().catch(() => {});
      actor.stop();
      breaker.stop();
      notify(listeners);
    },
    status(): BackendHealth {
      const { value, context } = actor.getSnapshot();
      const crashLoop = value === 'RESTARTING' && context.crashCount >= 3;
      return {
        kind: 'mcp',
        status: crashLoop ? 'fail' : statusOf[value],
        state: value,
        breaker: breaker.state,
        consecutiveFailures: breaker.snapshot.context.consecutiveFailures,
        lastCheckAt: lastCheckAt === null ? null : new Date(lastCheckAt).toISOString(),
        lastSuccessAt: lastSuccessAt === null ? null : new Date(lastSuccessAt).toISOString(),
        lastError: context.lastError === null ? null : redact(context.lastError),
        latencyMs,
        critical: deps.critical,
        ...throttle?.state(),
      };
    },
    async probe() {
      const current = session;
      if (!current || actor.getSnapshot().value !== 'READY') return;
      try {
        await current.client.ping({ timeout: initTimeoutMs });
        lastCheckAt = lastSuccessAt = clock.now();
      } catch (error) {
        lastCheckAt = clock.now();
        fault(current, `ping failed: ${shortMessage(error)}`);
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    listTools: () => tools,
    onToolsChanged(listener) {
      toolListeners.add(listener);
      return () => toolListeners.delete(listener);
    },
    callTool,
    exposes: (tool) => (include === null || include.has(tool)) && !exclude.has(tool),
  };
  return backend;
}
