/**
 * The prebuilt inspector page served without Vite (what an installed package does): files from the
 * build directory with their types, nothing outside it, loopback Host/Origin only, the replay file,
 * and `/v1` proxied to LM Studio in in-page mode.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REPLAY_PATH, startInspectorPage } from '../src/inspector/index.js';
import { startLab } from '../src/lab/index.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function fakeBuild(): string {
  const dir = mkdtempSync(join(tmpdir(), 'inspector-build-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>mcp-lifeline inspector</title>');
  writeFileSync(join(dir, 'assets', 'main-abc.js'), 'console.log(1)');
  writeFileSync(join(dir, '..', `secret-${process.pid}.txt`), 'outside');
  return dir;
}

/** A raw GET (no URL normalisation by the client), with the headers given. */
function get(url: string, path: string, headers: Record<string, string> = {}) {
  const target = new URL(url);
  return new Promise<{ status: number; body: string; type: string | undefined }>((resolve, reject) => {
    const req = http.request({ host: target.hostname, port: target.port, path, headers }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, type: res.headers['content-type'] }));
    });
    req.once('error', reject);
    req.end();
  });
}

describe('static inspector page', () => {
  it('serves the build with content types, on 127.0.0.1, and says which mode it is', async () => {
    const page = await startInspectorPage({
      mode: 'static',
      buildDir: fakeBuild(),
      wsUrl: 'ws://127.0.0.1:9/',
    });
    cleanups.push(() => page.stop());
    expect(page.mode).toBe('static');
    expect(page.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?ws=ws%3A%2F%2F127\.0\.0\.1%3A9%2F$/);
    expect(page.origin).toBe(new URL(page.baseUrl).origin);
    const index = await get(page.baseUrl, '/?ws=x');
    expect(index).toMatchObject({ status: 200, type: 'text/html; charset=utf-8' });
    expect(index.body).toContain('mcp-lifeline inspector');
    expect(await get(page.baseUrl, '/assets/main-abc.js')).toMatchObject({
      status: 200,
      type: 'text/javascript; charset=utf-8',
    });
    expect((await get(page.baseUrl, '/nope.js')).status).toBe(404);
  });

  it('nothing outside the build directory; foreign Host or Origin get 403', async () => {
    const page = await startInspectorPage({ mode: 'static', buildDir: fakeBuild() });
    cleanups.push(() => page.stop());
    for (const path of [
      `/../secret-${process.pid}.txt`,
      `/%2e%2e/secret-${process.pid}.txt`,
      '/..%2fsecret.txt',
    ]) {
      const answer = await get(page.baseUrl, path);
      expect(answer.status, path).toBe(404);
      expect(answer.body).not.toContain('outside');
    }
    expect((await get(page.baseUrl, '/', { host: 'evil.example' })).status).toBe(403);
    expect((await get(page.baseUrl, '/', { origin: 'https://evil.example' })).status).toBe(403);
  });

  it('serves a recording at the replay path, and proxies /v1 to LM Studio in in-page mode', async () => {
    const recording = join(mkdtempSync(join(tmpdir(), 'inspector-replay-')), 'incident.jsonl');
    writeFileSync(recording, '{"t":1,"message":{"type":"hello"}}\n');
    const replay = await startInspectorPage({ mode: 'static', buildDir: fakeBuild(), replayFile: recording });
    cleanups.push(() => replay.stop());
    expect(replay.url).toMatch(/\?replay=1$/);
    expect(await get(replay.baseUrl, REPLAY_PATH)).toMatchObject({
      status: 200,
      body: expect.stringContaining('hello'),
    });

    const lab = await startLab({ wsPort: 0, httpPort: 0, controlPort: 0 });
    cleanups.push(() => lab.stop());
    const inPage = await startInspectorPage({
      mode: 'static',
      buildDir: fakeBuild(),
      inPage: { lab: 'ws://127.0.0.1:1', lmStudio: lab.urls.lmStudio },
    });
    cleanups.push(() => inPage.stop());
    const models = await get(inPage.baseUrl, '/v1/models');
    expect(models.status).toBe(200);
    expect(JSON.parse(models.body)).toHaveProperty('data');
  });

  it('refuses to start when the page is not built, saying how to build it', async () => {
    await expect(
      startInspectorPage({ mode: 'static', buildDir: join(tmpdir(), 'no-such-inspector-build') }),
    ).rejects.toThrow(/npm run build/);
  });
});
