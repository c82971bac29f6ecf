/*
 * How failures of discovered tools (MCP upstreams, WebMCP pages) answer: codes for the backends'
 * own errors and `retry_after_ms` when the backend says when to come back. The errors are the real
 * classes the backends throw; the MCP shape is `toCallToolResult`'s (isError, structuredContent).
 */
import { expect, test } from 'vitest';
import { McpCallTimeoutError, McpUnknownToolError } from '../src/backends/mcp/errors.js';
import {
  WebMcpPageNavigatedError,
  WebMcpToolNotFoundError,
  WebMcpWriteRefusedError,
} from '../src/backends/webmcp-page/errors.js';
import { BackendUnavailableError } from '../src/bridge/errors.js';
import { toCallToolResult } from '../src/mcp/server.js';
import { BrokenCircuitError } from '../src/reliability/errors.js';
import { toolFailure } from '../src/tools/errors.js';

test('CIRCUIT_OPEN and BACKEND_UNAVAILABLE carry retry_after_ms; the MCP result is isError with it', () => {
  const open = toolFailure(new BrokenCircuitError('up', 'OPEN', 1234));
  expect(open).toMatchObject({ success: false, error_code: 'CIRCUIT_OPEN', retry_after_ms: 1234 });
  const down = toolFailure(
    Object.assign(new BackendUnavailableError('up', 'BACKOFF'), { retryAfterMs: 250 }),
  );
  expect(down).toMatchObject({ error_code: 'BACKEND_UNAVAILABLE', retry_after_ms: 250 });
  expect(toolFailure(new BackendUnavailableError('up', 'CLOSED'))).not.toHaveProperty('retry_after_ms');
  const mcp = toCallToolResult(open);
  expect(mcp.isError).toBe(true);
  expect(mcp.structuredContent).toMatchObject({ error_code: 'CIRCUIT_OPEN', retry_after_ms: 1234 });
});

test('webmcp-page and mcp errors map to codes; an unknown tool names the field', () => {
  expect(toolFailure(new WebMcpPageNavigatedError('page', 'search')).error_code).toBe('BACKEND_UNAVAILABLE');
  expect(toolFailure(new WebMcpToolNotFoundError('page', 'gone'))).toMatchObject({
    error_code: 'INVALID_INPUT',
    field: 'name',
  });
  expect(toolFailure(new McpUnknownToolError('up', 'gone'))).toMatchObject({
    error_code: 'INVALID_INPUT',
    field: 'name',
  });
  expect(toolFailure(new McpCallTimeoutError('up', 'slow', 100)).error_code).toBe('TIMEOUT');
  const refused = toolFailure(new WebMcpWriteRefusedError('page', 'add_to_cart'));
  expect(refused.error_code).toBe('EXECUTION_FAILED');
  expect(refused.error).toMatch(/backends\.page\.allowWrite/);
});
