import { z } from 'zod';
import type { HttpBackend } from '../backends/http.js';
import { assertAvailable } from './availability.js';
import { BackendUnavailableError } from './errors.js';
import { parseReply } from './reply.js';
import type { ToolDefinition } from './types.js';

/** Default limit of `prompt` (and `system_prompt`), in characters. */
export const MAX_PROMPT_CHARS = 100_000;

export function sendLlmPromptInput(maxPromptChars = MAX_PROMPT_CHARS) {
  return z.object({
    prompt: z.string().min(1).max(maxPromptChars).describe('The user message.'),
    model: z.string().min(1).default('local'),
    temperature: z.number().min(0).max(2).default(0.7),
    max_tokens: z.number().int().min(1).max(1_000_000).default(2048),
    system_prompt: z.string().max(maxPromptChars).optional(),
  });
}

const tokens = z.number().int().min(0).nullish();
const choice = z.object({ message: z.object({ content: z.string() }) });

/**
 * The part of an OpenAI-compatible chat completion the tool reads. Other fields are allowed and
 * left out of the parsed copy (`z.object`, not `looseObject`: copying a real server's ten-odd other
 * fields cost ~0.7 µs per call).
 */
export const chatCompletionReply = z.object({
  model: z.string().nullish(),
  choices: z.tuple([choice], choice),
  usage: z.object({ prompt_tokens: tokens, completion_tokens: tokens, total_tokens: tokens }).nullish(),
});

/** `send_llm_prompt`'s answer. */
export const sendLlmPromptOutput = z.object({
  response: z.string().describe("The model's answer (`choices[0].message.content`)."),
  model: z.string().describe('The model that answered (as the server names it), else the one asked for.'),
  tokensUsed: z
    .object({
      prompt: z.number().int().min(0),
      completion: z.number().int().min(0),
      total: z.number().int().min(0),
    })
    .describe('Token counts from `usage` (0 when the server gives none).'),
  latencyMs: z.number().describe('Time from sending the request to its answer, retries included.'),
});

/**
 * `send_llm_prompt`: `POST /chat/completions` on the OpenAI-compatible HTTP backend (`lmStudio`),
 * retried with the `sendLLMPrompt` policy through that backend's breaker. Returns
 * `{ success, response, model, tokensUsed: { prompt, completion, total }, latencyMs }`.
 */
export function sendLlmPromptTool(
  options: { backend?: string; maxPromptChars?: number } = {},
): ToolDefinition<ReturnType<typeof sendLlmPromptInput>> {
  const backendName = options.backend ?? 'lmStudio';
  return {
    name: 'send_llm_prompt',
    title: 'Ask the local LLM',
    // Reads nothing of the bridge's and changes nothing, but each call is a new generation from a
    // model outside the bridge: not idempotent, open world.
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
    description: 'Sends a prompt to the local OpenAI-compatible LLM (LM Studio) and returns its answer.',
    inputSchema: sendLlmPromptInput(options.maxPromptChars),
    outputSchema: sendLlmPromptOutput,
    backend: backendName,
    operation: 'sendLLMPrompt',
    async handler(args, { backend, clock, operation, signal, progress, onRetry }) {
      if (backend?.kind !== 'http')
        throw new BackendUnavailableError(backendName, 'not configured', 'no HTTP backend of that name');
      assertAvailable(backend, clock.now());
      const messages = [
        ...(args.system_prompt ? [{ role: 'system', content: args.system_prompt }] : []),
        { role: 'user', content: args.prompt },
      ];
      const startedAt = clock.now();
      // No "answer received" point: the result says so, and the SDK clients drop progress that
      // arrives with the response (typescript-sdk#2580).
      progress(`sending the prompt to ${backendName}`);
      const reply = await (backend as HttpBackend).requestJson<unknown>('/chat/completions', {
        json: { model: args.model, messages, temperature: args.temperature, max_tokens: args.max_tokens },
        operation: operation ?? 'sendLLMPrompt',
        signal,
        onRetry,
      });
      const body = parseReply(chatCompletionReply, reply, 'the LLM answer');
      const usage = body.usage ?? {};
      return {
        response: body.choices[0].message.content,
        model: body.model ?? args.model,
        tokensUsed: {
          prompt: usage.prompt_tokens ?? 0,
          completion: usage.completion_tokens ?? 0,
          total: usage.total_tokens ?? (usage.prompt_tokens ?? 0) + (usage.completion_tokens ?? 0),
        },
        latencyMs: clock.now() - startedAt,
      };
    },
  };
}
