/*
 * The bridge: composes backends (built from kinds), the orchestrator machine and the tool registry
 * (`create-bridge.ts`, a short composition of `backends.ts`, `orchestrator.ts`, `tool-context.ts`).
 * Browser-safe: no Node-only import. Node adds `createNodeBridge` from `./node.js` and `loadConfig`
 * from `../config.js`. Imports: machines, backends, tools, reliability, telemetry, persistence types.
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
  surfaceHealth,
  withLine,
} from '../../machines/bridge.machine.js';
export * from '../tools/index.js';
export {
  type BuildBackendsOptions,
  buildBackends,
  type ResolvedBackend,
  resolveBackends,
} from './backends.js';
export { createBridge } from './create-bridge.js';
export {
  BACKEND_ENV_KEYS,
  DEFAULT_BACKENDS,
  DEFAULT_HEALTH_CHECK_INTERVAL_MS,
  DEFAULT_HEALTH_CHECK_JITTER,
  DEFAULT_HEALTH_SETTLE_MS,
  DEFAULT_SOCKET_OPTIONS,
  type DefaultBackend,
} from './defaults.js';
export { BackendUnavailableError, ConfigError, ToolExecutionError } from './errors.js';
export { aggregateStatus, type HealthSource, healthChanged, healthReport } from './health.js';
export { createOrchestrator, type Orchestrator, type OrchestratorOptions } from './orchestrator.js';
export { backendChanged, planReconfigure } from './reconfigure.js';
export { type ToolContextDeps, toolContexts } from './tool-context.js';
export type {
  BackendConfig,
  Bridge,
  BridgeConfig,
  BridgeLogger,
  CallToolOptions,
  ErrorCode,
  HealthListener,
  HealthReport,
  ReconfigureResult,
  ToolDescriptor,
  ToolResult,
} from './types.js';
