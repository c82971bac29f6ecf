/**
 * The inspector's Node side. `createInspectedBridge` makes a bridge whose every actor reports to a
 * relay; `startInspectorServer` streams the relay over a WebSocket on 127.0.0.1; `startInspectorPage`
 * serves the page. `startInspector` does all three for the CLI.
 */
import type { InspectionEvent, Observer } from 'xstate';
import { createNodeBridge } from '../bridge/node.js';
import type { Bridge, BridgeConfig } from '../bridge/types.js';
import { type InspectorPage, startInspectorPage } from './page.js';
import { createInspectionRelay, type InspectionRelay, type InspectionRelayOptions } from './relay.js';
import { type InspectorServer, type InspectorServerOptions, startInspectorServer } from './server.js';

export * from './page.js';
export type * from './protocol.js';
export * from './redact.js';
export * from './relay.js';
export * from './server.js';

type InspectOption = BridgeConfig['inspect'];

/** Calls both observers (the relay's and one the caller already had). */
export function combineInspectors(
  first: InspectOption,
  second: Observer<InspectionEvent>,
): Observer<InspectionEvent> {
  if (!first) return second;
  const call = typeof first === 'function' ? first : (event: InspectionEvent) => first.next?.(event);
  return {
    next(event) {
      call(event);
      second.next?.(event);
    },
  };
}

/**
 * `createNodeBridge(config)` with a new relay's observer given to every actor (orchestrator,
 * backends, breakers, retries) and the relay attached to the bridge.
 */
export function createInspectedBridge(
  config: BridgeConfig = {},
  relayOptions: InspectionRelayOptions = {},
): { bridge: Bridge; relay: InspectionRelay } {
  const relay = createInspectionRelay(relayOptions);
  const bridge = createNodeBridge({ ...config, inspect: combineInspectors(config.inspect, relay.inspect) });
  relay.attach(bridge);
  return { bridge, relay };
}

export interface StartInspectorOptions extends Omit<InspectorServerOptions, 'port'> {
  /** Port of the WebSocket server. Default 0. */
  wsPort?: number;
  /** Port of the page. Default 0. */
  pagePort?: number;
  /** Serve the page too (default true). */
  page?: boolean;
  stately?: boolean;
}

export interface RunningInspector {
  server: InspectorServer;
  page: InspectorPage | undefined;
  /** The page URL (with `?ws=`), or the WebSocket URL when no page is served. */
  url: string;
  stop(): Promise<void>;
}

/** Starts the WebSocket server and (by default) the page for a bridge made by `createInspectedBridge`. */
export async function startInspector(options: StartInspectorOptions): Promise<RunningInspector> {
  const { wsPort, pagePort, page: withPage = true, stately, ...serverOptions } = options;
  const server = await startInspectorServer({ ...serverOptions, port: wsPort ?? 0 });
  let page: InspectorPage | undefined;
  try {
    if (withPage) {
      page = await startInspectorPage({
        wsUrl: server.url,
        ...(pagePort !== undefined ? { port: pagePort } : {}),
        ...(stately ? { stately } : {}),
      });
      server.allowPageOrigin(page.origin);
    }
  } catch (error) {
    await server.stop();
    throw error;
  }
  return {
    server,
    page,
    url: page?.url ?? server.url,
    async stop() {
      await page?.stop();
      await server.stop();
    },
  };
}
