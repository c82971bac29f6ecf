/** The lab's OpenAI-compatible answers (LM Studio): pure functions of the request body. */
import { createHash } from 'node:crypto';

export const LAB_MODEL_ID = 'lab-model';
export const ECHO_PREFIX = 'lab echo: ';

export function modelsResponse(): Record<string, unknown> {
  return { object: 'list', data: [{ id: LAB_MODEL_ID, object: 'model', owned_by: 'mcp-lifeline-lab' }] };
}

function wordCount(text: string): number {
  const trimmed = text.trim();
  return trimmed === '' ? 0 : trimmed.split(/\s+/).length;
}

/** A message's text: a string, or the `text` of OpenAI content parts. */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part) =>
        part && typeof part === 'object' && typeof (part as { text?: unknown }).text === 'string'
          ? (part as { text: string }).text
          : '',
      )
      .join(' ');
  }
  return '';
}

export type ChatResult = { status: 200; body: Record<string, unknown> } | { status: 400; error: string };

/** Answers `POST /v1/chat/completions` deterministically: `lab echo: <last user message, 200 chars>`. */
export function chatCompletion(body: unknown): ChatResult {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    return { status: 400, error: 'body must be a JSON object' };
  }
  const request = body as Record<string, unknown>;
  const messages = request.messages;
  if (!Array.isArray(messages) || messages.length === 0) {
    return { status: 400, error: "'messages' must be a non-empty array" };
  }
  for (const [i, message] of messages.entries()) {
    if (!message || typeof message !== 'object' || typeof (message as { role?: unknown }).role !== 'string') {
      return { status: 400, error: `'messages[${i}]' must be an object with a string 'role'` };
    }
  }
  if (request.stream === true) return { status: 400, error: "'stream' is not supported by the lab" };
  if (request.model !== undefined && typeof request.model !== 'string') {
    return { status: 400, error: "'model' must be a string" };
  }
  const maxTokens = request.max_tokens;
  if (
    maxTokens !== undefined &&
    (typeof maxTokens !== 'number' || !Number.isInteger(maxTokens) || maxTokens < 1)
  ) {
    return { status: 400, error: "'max_tokens' must be a positive integer" };
  }
  const typed = messages as { role: string; content?: unknown }[];
  const lastUser = [...typed].reverse().find((m) => m.role === 'user');
  let content = ECHO_PREFIX + textOf(lastUser?.content).slice(0, 200);
  let finishReason = 'stop';
  if (typeof maxTokens === 'number' && wordCount(content) > maxTokens) {
    content = content.trim().split(/\s+/).slice(0, maxTokens).join(' ');
    finishReason = 'length';
  }
  const promptTokens = typed.reduce((sum, m) => sum + wordCount(textOf(m.content)), 0);
  const completionTokens = wordCount(content);
  const model = typeof request.model === 'string' && request.model !== '' ? request.model : LAB_MODEL_ID;
  const id = `chatcmpl-lab-${createHash('sha256')
    .update(JSON.stringify([model, typed]))
    .digest('hex')
    .slice(0, 16)}`;
  return {
    status: 200,
    body: {
      id,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model,
      choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: finishReason }],
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: completionTokens,
        total_tokens: promptTokens + completionTokens,
      },
    },
  };
}
