/** Per-operation retry numbers inherited from the earlier bridge. */
export interface RetryPolicy {
  maxRetries: number;
  baseDelayMs: number;
}

/** `retry({ operation })` starts from its entry here; explicit options override it. */
export const DEFAULT_RETRY_POLICIES: Readonly<Record<string, Readonly<RetryPolicy>>> = Object.freeze({
  connectEvolutionSocket: Object.freeze({ maxRetries: 5, baseDelayMs: 200 }),
  connectAgentSocket: Object.freeze({ maxRetries: 5, baseDelayMs: 200 }),
  sendLLMPrompt: Object.freeze({ maxRetries: 2, baseDelayMs: 500 }),
  sendA2AMessage: Object.freeze({ maxRetries: 4, baseDelayMs: 150 }),
  fetch: Object.freeze({ maxRetries: 3, baseDelayMs: 100 }),
});
