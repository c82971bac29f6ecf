/*
 * Bounded MCP Streamable HTTP sessions: idle ones are closed (on a manual clock), past the cap an
 * `initialize` gets 503 with Retry-After, and a client that never finishes its headers is cut off by
 * node:http's headers timeout. The official SDK client plus raw requests, on 127.0.0.1.
 */
import net from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterEach, describe, expect, it } from 'vitest';
import { createBridge } from '../src/bridge/create-bridge.js';
import type { Bridge } from '../src/bridge/types.js';
import { createManualClock, type ManualClock } from '../src/clock.js';
import { type McpHttpOptions, type McpHttpServer, startMcpHttpServer } from '../src/mcp/http.js';
import { SOCKETS_OFF, until } from './bridge-fixtures.js';

let bridge: Bridge | undefined;
let server: McpHttpServer | undefined;
afterEach(async () => {
  await server?.close();
  await bridge?.stop();
  server = undefined;
  bridge = undefined;
});

async function serve(options: McpHttpOptions): Promise<{ server: McpHttpServer; clock: ManualClock }> {
  const clock = createManualClock(Date.now());
  bridge = createBridge({
    clock,
    logger: { warn: () => {}, error: () => {} },
    backends: {
      ...SOCKETS_OFF,
      lmStudio: { enabled: false },
    },
  });
  server = await startMcpHttpServer(bridge, { port: 0, clock, ...options });
  return { server, clock };
}

const initializeBody = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
});

async function rawInitialize(
  url: string,
): Promise<{ status: number; session: string | null; retryAfter: string | null }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: initializeBody,
  });
  await response.text();
  return {
    status: response.status,
    session: response.headers.get('mcp-session-id'),
    retryAfter: response.headers.get('retry-after'),
  };
}

describe('MCP HTTP sessions', () => {
  it('past maxSessions, initialize is answered 503 with Retry-After; idle sessions are closed and free their place', async () => {
    const { server, clock } = await serve({
      maxSessions: 3,
      sessionIdleTimeoutMs: 60_000,
      retryAfterSeconds: 7,
    });
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await rawInitialize(server.url));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 503, 503]);
    expect(answers[3]?.retryAfter).toBe('7');
    expect(server.sessions()).toBe(3);
    expect(server.sessionStats().refused).toBe(2);

    await clock.advance(59_999);
    expect(server.sessions()).toBe(3);
    await clock.advance(1);
    expect(server.sessions()).toBe(0);
    expect(server.sessionStats().idleClosed).toBe(3);
    // A closed session's id is unknown now.
    const stale = await fetch(server.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-session-id': answers[0]?.session as string,
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
    });
    expect(stale.status).toBe(404);
    expect((await rawInitialize(server.url)).status).toBe(200);
  });

  it('an SDK client works while active; once it goes away its session is closed after the idle timeout', async () => {
    const { server, clock } = await serve({ sessionIdleTimeoutMs: 30_000 });
    const client = new Client({ name: 'sessions-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(server.url)));
    expect((await client.listTools()).tools.map((tool) => tool.name)).toContain('get_os_state');
    expect(server.sessions()).toBe(1);
    await clock.advance(10_000);
    expect(
      (await client.callTool({ name: 'get_os_state', arguments: { include: ['bridge'] } })).isError,
    ).toBeFalsy();
    await client.close(); // ends its SSE stream; the session stays until it idles out
    expect(server.sessions()).toBe(1);
    await until(() => server.sessionStats().activeRequests === 0, 5_000, 'its stream closed on the server');
    await clock.advance(30_000);
    expect(server.sessions()).toBe(0);
  });

  it('a client that never finishes its headers is cut off (headersTimeout)', async () => {
    const { server } = await serve({ headersTimeoutMs: 200 });
    const socket = net.connect(server.port, '127.0.0.1');
    let received = '';
    socket.on('data', (chunk) => {
      received += chunk.toString();
    });
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.write(`POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nX-Slow: `);
    await closed;
    expect(received).toMatch(/^HTTP\/1\.1 408/);
  });
});
