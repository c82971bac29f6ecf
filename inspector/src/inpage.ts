/**
 * In-page mode (`?inpage=1&lab=ws://127.0.0.1:PORT&llm=http://…/v1`): the page runs the browser build
 * of the bridge itself (native WebSocket and fetch), registers its tools on WebMCP through the
 * polyfill (with `navigator.modelContextTesting`), and feeds the bridge's inspection events through
 * `createInspectionRelay` straight into the page's store: no inspector server, no WebSocket to it.
 *
 * `llm` should point at a same-origin proxy of LM Studio (the launcher proxies `/v1`): LM Studio's and
 * the lab's OpenAI-compatible servers send no CORS headers. With `control=<lab control URL>` and
 * `#token=<lab token>` (a fragment, never sent to a server) the health panel gets the fault buttons.
 */
import { initializeWebMCPPolyfill } from '@mcp-b/webmcp-polyfill';
import { createBridge } from '../../src/bridge/index.js';
import type { BackendConfig, Bridge } from '../../src/bridge/types.js';
import type { InspectorMessage } from '../../src/inspector/protocol.js';
import { createInspectionRelay, type InspectionRelay } from '../../src/inspector/relay.js';
import { registerWebMcpTools, type WebMcpRegistration } from '../../src/webmcp/register.js';

declare global {
  interface Window {
    inPage?: { bridge: Bridge; relay: InspectionRelay; registration: WebMcpRegistration };
  }
}

export const IN_PAGE_BACKENDS = ['evolution', 'agents', 'a2a'] as const;

/** Starts the in-page bridge; every batch of inspection messages goes to `apply`. */
export async function startInPage(
  params: URLSearchParams,
  apply: (messages: InspectorMessage[]) => void,
): Promise<{ bridge: Bridge; relay: InspectionRelay }> {
  initializeWebMCPPolyfill({ installTestingShim: true });
  const lab = params.get('lab')?.replace(/\/+$/, '');
  const llm = params.get('llm');
  const backends: Record<string, BackendConfig> = {};
  if (lab) for (const name of IN_PAGE_BACKENDS) backends[name] = { url: `${lab}/${name}` };
  if (llm) backends.lmStudio = { url: new URL(llm, location.href).href };

  const relay = createInspectionRelay();
  relay.subscribe(apply);
  const bridge = createBridge({ backends, inspect: relay.inspect, logger: { warn: () => {} } });
  relay.attach(bridge);
  const control = params.get('control');
  const token = new URLSearchParams(location.hash.slice(1)).get('token');
  if (control && token) {
    apply([{ type: 'lab', url: control.replace(/\/+$/, ''), token, backends: bridge.backendNames() }]);
  }
  await bridge.start();
  const registration = registerWebMcpTools(bridge);
  await registration.ready;
  window.inPage = { bridge, relay, registration };
  return { bridge, relay };
}
