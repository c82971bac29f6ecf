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
export { errorCodeOf, invalidInput, toolFailure } from './errors.js';
export { getOsStateInput, getOsStateTool, OS_STATE_SECTIONS } from './get-os-state.js';
export { reliabilityGetStatusInput, reliabilityGetStatusTool } from './reliability-get-status.js';
export {
  A2A_MESSAGE_TYPES,
  A2A_SCHEMA_URL,
  sendA2aMessageInput,
  sendA2aMessageTool,
} from './send-a2a-message.js';
export { MAX_PROMPT_CHARS, sendLlmPromptInput, sendLlmPromptTool } from './send-llm-prompt.js';
export { SPAWN_TIMEOUT_MS, spawnAreaAgentInput, spawnAreaAgentTool } from './spawn-area-agent.js';
export { EVOLUTION_TIMEOUT_MS, triggerEvolutionInput, triggerEvolutionTool } from './trigger-evolution.js';
export type { BridgeView, ToolCallStats, ToolContext, ToolDefinition, ToolInputSchema } from './types.js';

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
