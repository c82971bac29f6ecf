/**
 * Test page: the browser build of the bridge (native WebSocket and fetch) with its tools registered
 * on `document.modelContext`: by the WebMCP polyfill, or with `?webmcp=native` by Chromium's own
 * implementation (launched with `--enable-features=WebMCPTesting`). Backend URLs come from the query
 * string (`?evolution=ws://…&agents=…&a2a=…&lmStudio=http://…`).
 */
import { initializeWebMCPPolyfill } from '@mcp-b/webmcp-polyfill';
import { z } from 'zod';
import { createBridge } from '../../../src/bridge/index.js';
import type { BackendConfig, Bridge } from '../../../src/bridge/types.js';
import { registerWebMcpTools, type WebMcpRegistration } from '../../../src/webmcp/register.js';

declare global {
  interface Window {
    bridge?: Bridge;
    registration?: WebMcpRegistration;
    pageError?: string;
    /** Which WebMCP implementation serves the tools. */
    webmcp?: 'native' | 'polyfill';
    /** Registers `later_tool` on the bridge after the page registered its tools (it must follow). */
    addLaterTool?: () => void;
    removeLaterTool?: () => void;
  }
}

const status = document.getElementById('status') as HTMLElement;

async function boot(): Promise<void> {
  const params = new URLSearchParams(location.search);
  if (params.get('webmcp') === 'native') {
    if (!('modelContext' in document))
      throw new Error('no native document.modelContext (WebMCPTesting off?)');
    window.webmcp = 'native';
  } else {
    initializeWebMCPPolyfill({ installTestingShim: true });
    window.webmcp = 'polyfill';
  }
  const backends: Record<string, BackendConfig> = {};
  for (const name of ['evolution', 'agents', 'a2a', 'lmStudio']) {
    const url = params.get(name);
    if (url) backends[name] = { url };
  }
  const bridge = createBridge({ backends, logger: { warn: () => {} } });
  await bridge.start();
  const registration = registerWebMcpTools(bridge);
  await registration.ready;
  window.bridge = bridge;
  window.registration = registration;
  window.addLaterTool = () => {
    window.removeLaterTool = bridge.registerTool({
      name: 'later_tool',
      description: 'Registered on the bridge after the page registered its tools.',
      inputSchema: z.object({ n: z.number() }),
      handler: ({ n }) => ({ doubled: n * 2 }),
    });
  };
  status.textContent = 'ready';
}

boot().catch((error: unknown) => {
  window.pageError = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  status.textContent = `error: ${window.pageError}`;
});
