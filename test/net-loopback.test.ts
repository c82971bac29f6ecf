/*
 * The one Host/Origin check shared by MCP over HTTP, the inspector and the lab (src/net/loopback.ts).
 */
import { describe, expect, it } from 'vitest';
import { checkHostAndOrigin, hostHeadersFor, isLoopbackHost, isLoopbackOrigin } from '../src/net/loopback.js';

describe('isLoopbackHost / isLoopbackOrigin', () => {
  it('knows the loopback names', () => {
    for (const host of ['127.0.0.1', '127.0.0.2', 'localhost', 'LOCALHOST', '::1', '[::1]']) {
      expect(isLoopbackHost(host), host).toBe(true);
    }
    for (const host of ['0.0.0.0', '::', '10.0.0.1', 'localhost.evil.example', '127.0.0.1.evil.example']) {
      expect(isLoopbackHost(host), host).toBe(false);
    }
  });

  it('accepts http(s) loopback origins only', () => {
    for (const origin of ['http://127.0.0.1:5173', 'https://localhost', 'http://[::1]:8080']) {
      expect(isLoopbackOrigin(origin), origin).toBe(true);
    }
    for (const origin of ['null', 'http://evil.example', 'file:///etc', 'ws://127.0.0.1:1', 'not a url']) {
      expect(isLoopbackOrigin(origin), origin).toBe(false);
    }
  });
});

describe('hostHeadersFor', () => {
  it('a loopback bind answers every loopback name on its port', () => {
    expect(hostHeadersFor('127.0.0.1', 8790)).toEqual(['127.0.0.1:8790', 'localhost:8790', '[::1]:8790']);
    expect(hostHeadersFor('::1', 9)).toContain('[::1]:9');
  });

  it('another address answers only itself; a wildcard bind any name', () => {
    expect(hostHeadersFor('192.168.1.5', 80)).toEqual(['192.168.1.5:80']);
    expect(hostHeadersFor('0.0.0.0', 80)).toBe('any');
    expect(hostHeadersFor('::', 80)).toBe('any');
  });
});

describe('checkHostAndOrigin', () => {
  const policy = { allowedHosts: hostHeadersFor('127.0.0.1', 4000) };

  it('lets a loopback Host on the right port through, with or without a loopback Origin', () => {
    expect(checkHostAndOrigin({ host: '127.0.0.1:4000' }, policy)).toBeNull();
    expect(
      checkHostAndOrigin({ host: 'LOCALHOST:4000', origin: 'http://localhost:5173' }, policy),
    ).toBeNull();
  });

  it('refuses a missing, foreign, other-port or port-less Host (DNS rebinding)', () => {
    expect(checkHostAndOrigin({}, policy)).toMatch(/Host/);
    expect(checkHostAndOrigin({ host: 'evil.example:4000' }, policy)).toMatch(/Host "evil.example:4000"/);
    expect(checkHostAndOrigin({ host: '127.0.0.1:4001' }, policy)).toMatch(/Host/);
    // No port means port 80, which is not this server.
    expect(checkHostAndOrigin({ host: '127.0.0.1' }, policy)).toMatch(/Host/);
    expect(
      checkHostAndOrigin({ host: '127.0.0.1' }, { allowedHosts: hostHeadersFor('127.0.0.1', 80) }),
    ).toBeNull();
    expect(checkHostAndOrigin({ host: 'evil@127.0.0.1:4000' }, policy)).toMatch(/Host/);
  });

  it('refuses a foreign or null Origin unless listed', () => {
    expect(checkHostAndOrigin({ host: '127.0.0.1:4000', origin: 'https://evil.example' }, policy)).toMatch(
      /Origin "https:\/\/evil.example"/,
    );
    expect(checkHostAndOrigin({ host: '127.0.0.1:4000', origin: 'null' }, policy)).toMatch(/Origin/);
    const listed = { ...policy, allowedOrigins: ['https://app.example'] };
    expect(checkHostAndOrigin({ host: '127.0.0.1:4000', origin: 'https://app.example' }, listed)).toBeNull();
  });

  it("'any' skips the Host check, never the Origin check", () => {
    expect(checkHostAndOrigin({ host: 'whatever.example' }, { allowedHosts: 'any' })).toBeNull();
    expect(checkHostAndOrigin({ origin: 'http://evil.example' }, { allowedHosts: 'any' })).toMatch(/Origin/);
  });
});
