/**
 * A tool list change reaches clients of both protocol eras over Streamable HTTP: a 2025-11-25 client
 * (SDK v1) gets `notifications/tools/list_changed` unsolicited, on its session's stream; a client
 * pinned to 2026-07-28 (SDK v2), which has no session, gets it on the `subscriptions/listen` stream
 * it opened with `toolsListChanged`. The change is a host tool registered and then removed.
 */
import { Client as ClientV2, StreamableHTTPClientTransport as HttpV2 } from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as HttpV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { z } from 'zod';
import { createBridge } from '../src/bridge/index.js';
import type { Bridge } from '../src/bridge/types.js';
import { type McpHttpServer, startMcpHttpServer } from '../src/mcp/http.js';
import { quietLogger, SOCKETS_OFF } from './bridge-fixtures.js';
import { waitFor } from './mcp-support.js';

const MODERN = '2026-07-28';

let bridge: Bridge;
let server: McpHttpServer;

beforeAll(async () => {
  bridge = createBridge({
    surface: false,
    logger: quietLogger,
    backends: { ...SOCKETS_OFF, lmStudio: { enabled: false } },
  });
  bridge.start();
  server = await startMcpHttpServer(bridge, { host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await server?.close();
  await bridge?.stop();
});

/** Registers a host tool, then removes it: two changes of the list. */
function addAndRemoveTool(name: string): void {
  const remove = bridge.registerTool({
    name,
    description: 'A tool that comes and goes.',
    inputSchema: z.object({}),
    handler: () => ({ ok: true }),
  });
  remove();
}

test('a 2025-11-25 client gets notifications/tools/list_changed on its session', async () => {
  const client = new ClientV1({ name: 'list-changed-v1', version: '1.0.0' });
  let changes = 0;
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
    changes++;
  });
  await client.connect(new HttpV1(new URL(server.url)));
  try {
    // The unsolicited stream (GET) opens after initialize; a listing proves the session is live.
    await client.listTools();
    await waitFor(
      () => {
        if (changes === 0) addAndRemoveTool(`come_and_go_${Date.now()}`);
        return changes >= 1;
      },
      15_000,
      'a list_changed notification',
    );
    expect(changes).toBeGreaterThanOrEqual(1);
  } finally {
    await client.close();
  }
});

test('a client pinned to 2026-07-28 gets it on its subscriptions/listen stream', async () => {
  const client = new ClientV2(
    { name: 'list-changed-v2', version: '1.0.0' },
    { versionNegotiation: { mode: { pin: MODERN } } },
  );
  let changes = 0;
  client.setNotificationHandler('notifications/tools/list_changed', () => {
    changes++;
  });
  await client.connect(new HttpV2(new URL(server.url)));
  try {
    expect(client.getNegotiatedProtocolVersion()).toBe(MODERN);
    // listen() resolves once the server acknowledged the subscription: every change after it counts.
    const subscription = await client.listen({ toolsListChanged: true });
    addAndRemoveTool('come_and_go_modern');
    await waitFor(() => changes >= 1, 15_000, 'a list_changed notification on the listen stream');
    expect(changes).toBeGreaterThanOrEqual(1);
    await subscription.close();
  } finally {
    await client.close();
  }
});
