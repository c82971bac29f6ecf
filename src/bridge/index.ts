/*
 * The bridge's public API (browser-safe: no Node-only import). Node adds `createNodeBridge` from
 * `./node.js` and `loadConfig` from `../config.js`.
 */
export {
  type BridgeContext,
  type BridgeEvent,
  type BridgeMachine,
  type BridgeMachineInput,
  bridgeMachine,
  isSignificantChange,
  type ProbeBackendsOutput,
  SURFACE_BACKEND,
} from '../../machines/bridge.machine.js';
export * from '../tools/index.js';
export { createBridge } from './create-bridge.js';
export {
  BACKEND_ENV_KEYS,
  DEFAULT_BACKENDS,
  DEFAULT_HEALTH_CHECK_INTERVAL_MS,
  DEFAULT_HEALTH_CHECK_JITTER,
  DEFAULT_SOCKET_OPTIONS,
  type DefaultBackend,
} from './defaults.js';
export { BackendUnavailableError, ConfigError, ToolExecutionError } from './errors.js';
export { aggregateStatus, type HealthSource, healthChanged, healthReport } from './health.js';
export type {
  BackendConfig,
  Bridge,
  BridgeConfig,
  BridgeLogger,
  ErrorCode,
  HealthListener,
  HealthReport,
  ToolDescriptor,
  ToolResult,
} from './types.js';
