/*
 * The socket backend's options resolved once, at construction: defaults applied and checked, the
 * WebSocket constructor chosen, the machine's input and the breaker's options derived.
 */
import type { InputFrom } from 'xstate';
import type { SocketMachine } from '../../../machines/socket.machine.js';
import { type Clock, systemClock } from '../../clock.js';
import type { CircuitBreakerOptions } from '../../reliability/breaker.js';
import { DEFAULT_RETRY_POLICIES } from '../../reliability/policies.js';
import { BackendStoppedError } from '../errors.js';
import { type FrameLimits, positiveOr } from './frames.js';
import type { SocketBackendOptions, SocketLogger, WebSocketConstructor } from './types.js';

const isNode =
  typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string';

/** A socket backend's options with every default applied. */
export interface SocketSettings {
  name: string;
  url: string;
  protocols: string | string[] | undefined;
  clock: Clock;
  random: () => number;
  logger: SocketLogger;
  critical: boolean;
  queueLimit: number;
  maxFrameBytes: number;
  frameLimits: FrameLimits;
  requestTimeoutMs: number;
  confirmAfterMs: number;
  redeliverOption: boolean | undefined;
  /** The WebSocket constructor; undefined in Node until `ws` is loaded. */
  Ctor: WebSocketConstructor | undefined;
  pingMessage: string | (() => string) | undefined;
  isPong: ((frame: Record<string, unknown>) => boolean) | undefined;
  /** Input of this backend's `socketMachine` actor. */
  machineInput: InputFrom<SocketMachine>;
  /** Options of this backend's own breaker. */
  breaker: CircuitBreakerOptions;
}

/** Applies the defaults to `options` and checks them (throws `TypeError` / `RangeError` on bad ones). */
export function resolveSocketSettings(options: SocketBackendOptions): SocketSettings {
  if (!options.name) throw new TypeError('createSocketBackend: name is required');
  if (!options.url) throw new TypeError('createSocketBackend: url is required');
  const name = options.name;
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const queueLimit = positiveOr('queueLimit', options.queueLimit, 1000, true);
  const maxFrameBytes = positiveOr('maxFrameBytes', options.maxFrameBytes, 1024 * 1024);
  const maxFrameDepth = positiveOr('maxFrameDepth', options.maxFrameDepth, 100);
  const requestTimeoutMs = positiveOr('requestTimeoutMs', options.requestTimeoutMs, 30_000);
  const confirmAfterMs = positiveOr('confirmAfterMs', options.confirmAfterMs, 50, true);

  const globalCtor = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  const Ctor = options.WebSocket ?? (isNode ? undefined : globalCtor);
  if (!Ctor && !isNode) throw new TypeError('createSocketBackend: no WebSocket constructor available');
  // `ws` (given or loaded by default in Node) has protocol ping/pong.
  const protocolPing = Ctor ? typeof Ctor.prototype?.ping === 'function' : true;

  const heartbeat = options.heartbeat === false ? { intervalMs: 0 } : (options.heartbeat ?? {});
  let heartbeatIntervalMs = positiveOr('heartbeat.intervalMs', heartbeat.intervalMs, 10_000, true);
  if (!protocolPing && heartbeat.message === undefined) heartbeatIntervalMs = 0;

  const policy = DEFAULT_RETRY_POLICIES[options.retryPolicy ?? 'connectEvolutionSocket'];
  const maxRetries = options.retry?.maxRetries ?? policy?.maxRetries ?? 5;
  const baseDelayMs = positiveOr('retry.baseDelayMs', options.retry?.baseDelayMs ?? policy?.baseDelayMs, 200);
  const maxDelayMs = Math.max(baseDelayMs, positiveOr('retry.maxDelayMs', options.retry?.maxDelayMs, 4000));

  const userIsFailure = options.breaker?.isFailure;
  const breaker: CircuitBreakerOptions = {
    failureThreshold: maxRetries + 1,
    // Spread per backend, so that the HALF_OPEN probes of backends that opened together do not
    // align. Drawn once here rather than through `resetJitter`, whose per-breaker machine costs
    // ~8 KB per backend; pass `breaker.resetJitter` to redraw it every OPEN period instead.
    resetTimeoutMs: maxDelayMs * (1 - 0.5 * random()),
    halfOpenMaxCalls: 1,
    successThreshold: 1,
    random,
    ...options.breaker,
    isFailure: (error) =>
      !(error instanceof BackendStoppedError) && (userIsFailure ? userIsFailure(error) : true),
    name,
    clock,
    ...(options.inspect ? { inspect: options.inspect } : {}),
  };

  return {
    name,
    url: options.url,
    protocols: options.protocols,
    clock,
    random,
    logger: options.logger ?? console,
    critical: options.critical ?? false,
    queueLimit,
    maxFrameBytes,
    frameLimits: { maxFrameBytes, maxFrameDepth, validateFrame: options.validateFrame },
    requestTimeoutMs,
    confirmAfterMs,
    redeliverOption: options.redeliverUnconfirmed,
    Ctor,
    pingMessage: heartbeat.message,
    isPong: heartbeat.isPong,
    machineInput: {
      connectTimeoutMs: positiveOr('connectTimeoutMs', options.connectTimeoutMs, 5000),
      baseDelayMs,
      maxDelayMs,
      heartbeatIntervalMs,
      heartbeatTimeoutMs: positiveOr('heartbeat.timeoutMs', heartbeat.timeoutMs, 5000),
      minUptimeMs: positiveOr('minUptimeMs', options.minUptimeMs, 5000, true),
    },
    breaker,
  };
}

/**
 * Whether a connection keeps its writes until the receiver confirms them: with protocol ping unless
 * `redeliverUnconfirmed: false`; with application pings only when asked to and able to tell pongs.
 */
export function confirmsWrites(settings: SocketSettings, protocolPing: boolean): boolean {
  return (
    settings.queueLimit > 0 &&
    (protocolPing
      ? settings.redeliverOption !== false
      : settings.redeliverOption === true &&
        settings.pingMessage !== undefined &&
        settings.isPong !== undefined)
  );
}
