/**
 * The inspector hands the lab's control token only to its own page's exact origin: not to another
 * loopback origin or port, not to a client without an Origin — those still get the stream.
 */
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  createInspectedBridge,
  type InspectorMessage,
  startInspectorServer,
} from '../src/inspector/index.js';

const TOKEN = 'token-for-the-page-only';
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function server(pageOrigins?: string[]) {
  const { bridge, relay } = createInspectedBridge({
    logger: { warn() {} },
    backends: { evolution: { url: 'ws://127.0.0.1:1/evolution' } },
  });
  cleanups.push(async () => {
    await bridge.stop();
    relay.stop();
  });
  const running = await startInspectorServer({
    bridge,
    relay,
    labControl: { url: 'http://127.0.0.1:9/', token: TOKEN, ...(pageOrigins ? { pageOrigins } : {}) },
  });
  cleanups.push(() => running.stop());
  return running;
}

/** The first batch a client gets (hello, maybe the lab, the replay). */
function firstBatch(url: string, origin?: string): Promise<InspectorMessage[]> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, origin ? { headers: { origin } } : {});
    cleanups.push(() => ws.terminate());
    ws.once('message', (data) => resolve(JSON.parse(String(data))));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
}

const labOf = (batch: InspectorMessage[]) => batch.find((message) => message.type === 'lab');

describe('inspector lab token', () => {
  it('goes to the page origin given, exactly', async () => {
    const running = await server(['http://127.0.0.1:5173']);
    const own = await firstBatch(running.url, 'http://127.0.0.1:5173');
    expect(labOf(own)).toMatchObject({ type: 'lab', token: TOKEN });
  });

  it('not to another loopback port, another loopback name, or a client without Origin', async () => {
    const running = await server(['http://127.0.0.1:5173']);
    for (const origin of ['http://127.0.0.1:5174', 'http://localhost:5173', 'http://[::1]:5173', undefined]) {
      const batch = await firstBatch(running.url, origin);
      expect(batch[0]).toMatchObject({ type: 'hello' });
      expect(labOf(batch), String(origin)).toBeUndefined();
      expect(JSON.stringify(batch)).not.toContain(TOKEN);
    }
  });

  it('to nobody until the page origin is allowed; allowPageOrigin adds it', async () => {
    const running = await server();
    expect(labOf(await firstBatch(running.url, 'http://127.0.0.1:5173'))).toBeUndefined();
    running.allowPageOrigin('http://127.0.0.1:5173/');
    expect(labOf(await firstBatch(running.url, 'http://127.0.0.1:5173'))).toMatchObject({ token: TOKEN });
    expect(labOf(await firstBatch(running.url, 'http://127.0.0.1:5999'))).toBeUndefined();
  });
});
