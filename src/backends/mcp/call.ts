/* One `tools/call` request to an upstream, with a timeout on the injected clock and the caller's abort. */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import type { Clock } from '../../clock.js';
import type { RemoteCallOptions, RemoteCallResult } from '../kind.js';
import { McpCallAbortedError, McpCallTimeoutError } from './errors.js';

export interface ToolRequest {
  backend: string;
  client: Client;
  tool: string;
  args: Record<string, unknown>;
  timeoutMs: number;
  clock: Clock;
  /** The attempt's signal (from the breaker / retry): aborting it cancels the request. */
  signal: AbortSignal;
  onProgress?: RemoteCallOptions['onProgress'];
}

/**
 * Sends the request and resolves with the result as the server sent it. Rejects with
 * `McpCallTimeoutError` after `timeoutMs`, `McpCallAbortedError` when `signal` aborts (in both cases
 * the SDK sends `notifications/cancelled`), or the SDK's error.
 */
export async function requestToolCall(request: ToolRequest): Promise<RemoteCallResult> {
  const { clock, timeoutMs, signal } = request;
  const controller = new AbortController();
  const timer = clock.setTimeout(
    () => controller.abort(new McpCallTimeoutError(request.backend, request.tool, timeoutMs)),
    timeoutMs,
  );
  const onAbort = () => controller.abort(new McpCallAbortedError('aborted by the caller'));
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  try {
    const result = await request.client.request(
      { method: 'tools/call', params: { name: request.tool, arguments: request.args } },
      CallToolResultSchema,
      {
        signal: controller.signal,
        // Our clock times the call; the SDK's own (real-time) timeout is disabled.
        timeout: 2_147_483_647,
        ...(request.onProgress ? { onprogress: request.onProgress } : {}),
      },
    );
    return result as RemoteCallResult;
  } catch (caught) {
    // The SDK wraps an abort reason in an McpError (RequestTimeout): give back our own reason.
    throw controller.signal.aborted ? controller.signal.reason : caught;
  } finally {
    clock.clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
  }
}
