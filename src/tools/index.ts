/*
 * Tools: the built-in tools, the tool registry and its sources (code-defined tools, tools a
 * backend provides), and how results and failures are shaped. Imports: backends (types and
 * availability), reliability, persistence (the A2A outbox); never `../bridge/` — the bridge
 * composes tools, not the other way round.
 */
import { getOsStateTool } from './get-os-state.js';
import { reliabilityGetStatusTool } from './reliability-get-status.js';
import { sendA2aMessageTool } from './send-a2a-message.js';
import { sendLlmPromptTool } from './send-llm-prompt.js';
import { spawnAreaAgentTool } from './spawn-area-agent.js';
import { triggerEvolutionTool } from './trigger-evolution.js';
import type { ToolDefinition } from './types.js';

export {
  type A2ALedger,
  type A2ALedgerSnapshot,
  type A2AQueuedMessage,
  createA2ALedger,
} from './a2a-ledger.js';
export { assertAvailable, brokenCircuit } from './availability.js';
export {
  createDefinitionSource,
  type DefinitionSource,
  type DefinitionSourceOptions,
} from './definitions.js';
export { DISCOVERED_TOOL_SEPARATOR, discoveredToolName, providerToolSource } from './discovered.js';
export {
  BackendUnavailableError,
  cancelled,
  errorCodeOf,
  fieldPath,
  invalidInput,
  ToolExecutionError,
  toolFailure,
} from './errors.js';
export { getOsStateInput, getOsStateOutput, getOsStateTool, OS_STATE_SECTIONS } from './get-os-state.js';
export { type JsonSchemaValidator, jsonSchemaOf, validatorFromJsonSchema } from './json-schema.js';
export { outputJsonSchemaOf, toolFailureOutput } from './output.js';
export { createToolRegistry, type ToolRegistry } from './registry.js';
export {
  reliabilityGetStatusInput,
  reliabilityGetStatusOutput,
  reliabilityGetStatusTool,
} from './reliability-get-status.js';
export {
  ERROR_CODES,
  type ErrorCode,
  isPassthrough,
  type PassthroughResult,
  passthroughResult,
  type ToolFailure,
  type ToolResult,
} from './result.js';
export {
  A2A_MESSAGE_TYPES,
  A2A_SCHEMA_URL,
  sendA2aMessageInput,
  sendA2aMessageOutput,
  sendA2aMessageTool,
} from './send-a2a-message.js';
export {
  MAX_PROMPT_CHARS,
  sendLlmPromptInput,
  sendLlmPromptOutput,
  sendLlmPromptTool,
} from './send-llm-prompt.js';
export { TOOL_NAME, type ToolEntry, type ToolSource } from './source.js';
export {
  SPAWN_TIMEOUT_MS,
  spawnAreaAgentInput,
  spawnAreaAgentOutput,
  spawnAreaAgentTool,
} from './spawn-area-agent.js';
export {
  EVOLUTION_TIMEOUT_MS,
  triggerEvolutionInput,
  triggerEvolutionOutput,
  triggerEvolutionTool,
} from './trigger-evolution.js';
export type {
  BridgeView,
  CallToolOptions,
  ToolCallStats,
  ToolContext,
  ToolDefinition,
  ToolDescriptor,
  ToolInputSchema,
  ToolOutputSchema,
  ToolProgress,
} from './types.js';

/** Options of the built-in tools. */
export interface BuiltInToolOptions {
  /** Limit of `send_llm_prompt`'s `prompt`, in characters. Default 100 000. */
  maxPromptChars?: number;
  /** `from_agent` of A2A messages. Default 'mcp-lifeline'. */
  agentId?: string;
}

/** The six tools of the earlier bridge, with their default backends. */
export function builtInTools(options: BuiltInToolOptions = {}): ToolDefinition[] {
  return [
    getOsStateTool(),
    sendLlmPromptTool(options.maxPromptChars === undefined ? {} : { maxPromptChars: options.maxPromptChars }),
    triggerEvolutionTool(),
    spawnAreaAgentTool(),
    sendA2aMessageTool(options.agentId === undefined ? {} : { agentId: options.agentId }),
    reliabilityGetStatusTool(),
  ] as unknown as ToolDefinition[];
}
