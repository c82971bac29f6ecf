/**
 * `mcp-lifeline start` (`npm start`): the lab, the bridge pointed at it, MCP over Streamable HTTP and
 * the inspector page, together on 127.0.0.1. A default port that is in use moves to the next free
 * one (the banner says so); a port given with its flag must be free.
 */
import type { Bridge, BridgeLogger } from '../bridge/types.js';
import { type Lab, startLab } from '../lab/index.js';
import { installOpenTelemetry, type OpenTelemetryHandle } from '../telemetry/otel-sdk.js';
import { parseArgs, parsePort, UsageError } from './args.js';
import { formatHealthSummary } from './format.js';
import { type CliIO, untilStopped } from './io.js';
import { choosePort, type PortChoice } from './ports.js';
import { configOf, guarded, logLine } from './shared.js';
import { packageVersion } from './version.js';

export const START_USAGE = `Usage: mcp-lifeline start [options]

Runs the lab (local backends with fault injection), the bridge pointed at it, and an MCP server
over Streamable HTTP on 127.0.0.1, together. Prints the URLs and a live one-line health summary.
Ctrl-C (SIGINT) or SIGTERM stops everything. A default port that is in use is replaced by the next
free one (the printed URLs are the ones used); a port given with its flag must be free.

Options:
  --port N           MCP HTTP port on 127.0.0.1 (default 8790, 0 = random)
  --ws-port N        lab WebSocket port (default 8765, 0 = random)
  --http-port N      lab OpenAI-compatible port (default 1234, 0 = random)
  --control-port N   lab fault-control port (default random)
  --inspector-port N inspector page port (default random)
  --token T          lab control token (default: random)
  --config FILE      configuration file (backend URLs are replaced by the lab's)
  -h, --help         show this help
`;

const HOST = '127.0.0.1';

/** The bridge's and the lab's log lines, above the live line. Lab messages carry their own "lab:". */
function startLoggers(live: LiveLine): { bridge: BridgeLogger; lab: BridgeLogger } {
  const at = (level: string) => (message: string, details?: Record<string, unknown>) =>
    live.log(logLine(level, message, details));
  return {
    bridge: { info: at('info'), warn: at('warn'), error: at('error') },
    lab: { warn: at('warn'), error: at('error') },
  };
}

export function startCommand(argv: readonly string[], io: CliIO): Promise<number> {
  return guarded('start', io, START_USAGE, async () => {
    const { options, positionals } = parseArgs(argv, {
      port: 'string',
      'ws-port': 'string',
      'http-port': 'string',
      'control-port': 'string',
      'inspector-port': 'string',
      token: 'string',
      config: 'string',
    });
    if (options.help) {
      io.stdout(START_USAGE);
      return 0;
    }
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);
    const given = (name: string) =>
      typeof options[name] === 'string' ? parsePort(`--${name}`, options[name] as string) : undefined;
    // Validate the configuration before anything listens.
    configOf(io, options.config as string | undefined);

    const ports: Record<string, PortChoice> = {
      port: await choosePort(HOST, '--port', given('port'), 8790),
      'ws-port': await choosePort(HOST, '--ws-port', given('ws-port'), 8765),
      'http-port': await choosePort(HOST, '--http-port', given('http-port'), 1234),
      'control-port': await choosePort(HOST, '--control-port', given('control-port'), 0),
      'inspector-port': await choosePort(HOST, '--inspector-port', given('inspector-port'), 0),
    };
    const portOf = (flag: string) => ports[flag]?.port ?? 0;

    const token = (options.token as string | undefined) ?? io.env.MCP_LIFELINE_LAB_TOKEN;
    const live = liveLine(io);
    const loggers = startLoggers(live);
    const lab: Lab = await startLab({
      wsPort: portOf('ws-port'),
      httpPort: portOf('http-port'),
      controlPort: portOf('control-port'),
      ...(token ? { token } : {}),
      logger: loggers.lab,
    });
    let bridge: Bridge | undefined;
    let server: { url: string; close(): Promise<void> } | undefined;
    let unsubscribe: (() => void) | undefined;
    let inspector: { url: string; stop(): Promise<void> } | undefined;
    let stopRelay: (() => void) | undefined;
    let telemetry: OpenTelemetryHandle | undefined;
    try {
      const [{ createNodeBridge }, { startMcpHttpServer }, inspection] = await Promise.all([
        import('../bridge/node.js'),
        import('../mcp/http.js'),
        import('../inspector/index.js'),
      ]);
      const relay = inspection.createInspectionRelay();
      stopRelay = () => relay.stop();
      const config = configOf(io, options.config as string | undefined, {
        logger: loggers.bridge,
        backends: {
          evolution: { url: lab.urls.evolution },
          agents: { url: lab.urls.agents },
          a2a: { url: lab.urls.a2a },
          lmStudio: { url: lab.urls.lmStudio },
        },
      });
      bridge = createNodeBridge({
        ...config,
        inspect: inspection.combineInspectors(config.inspect, relay.inspect),
      });
      relay.attach(bridge);
      telemetry = await installOpenTelemetry(io.env, bridge, { version: packageVersion() });
      await bridge.start();
      server = await startMcpHttpServer(bridge, {
        host: HOST,
        port: portOf('port'),
        version: packageVersion(),
      });
      inspector = await inspection.startInspector({
        bridge,
        relay,
        pagePort: portOf('inspector-port'),
        labControl: { url: lab.urls.control, token: lab.token },
      });

      const used: Record<string, string> = {
        port: new URL(server.url).port,
        'ws-port': new URL(lab.urls.evolution).port,
        'http-port': new URL(lab.urls.lmStudio).port,
        'control-port': new URL(lab.urls.control).port,
        'inspector-port': new URL(inspector.url).port,
      };
      const moved = Object.entries(ports)
        .filter(([, choice]) => choice.busyDefault !== undefined)
        .map(
          ([flag, choice]) =>
            `  (port ${choice.busyDefault} was in use: took ${used[flag]}; --${flag} N chooses one)`,
        );
      io.stdout(
        [
          'mcp-lifeline running',
          `  MCP (Streamable HTTP)  ${server.url}`,
          `  inspector              ${inspector.url}`,
          `  lab evolution          ${lab.urls.evolution}`,
          `  lab agents             ${lab.urls.agents}`,
          `  lab a2a                ${lab.urls.a2a}`,
          `  lab lmStudio           ${lab.urls.lmStudio}`,
          `  lab control            ${lab.urls.control}  (Authorization: Bearer ${lab.token})`,
          ...moved,
          '',
          'Inject a fault:',
          `  curl -X POST -H "Authorization: Bearer ${lab.token}" -d '{"down":true}' ${lab.urls.control}/faults/evolution`,
          'Ctrl-C stops everything.',
          '',
          '',
        ].join('\n'),
      );
      live.update(formatHealthSummary(bridge.health()));
      unsubscribe = bridge.onHealthChange((report) => live.update(formatHealthSummary(report)));
      const why = await untilStopped(io);
      if (io.isTTY) io.stdout('\n');
      io.stdout(`stopping (${why})…\n`);
    } finally {
      unsubscribe?.();
      await inspector?.stop();
      await server?.close();
      await bridge?.stop();
      await telemetry?.shutdown();
      stopRelay?.();
      await lab.stop();
    }
    io.stdout('mcp-lifeline stopped\n');
    return 0;
  });
}

interface LiveLine {
  update(text: string): void;
  log(text: string): void;
}

/**
 * The terminal's status line: rewritten in place on a terminal, a new line per change otherwise.
 * `log` prints a message above it (on a terminal: clears the line, prints, draws it again).
 */
function liveLine(io: CliIO): LiveLine {
  let last = '';
  return {
    update(text) {
      if (text === last) return;
      last = text;
      if (io.isTTY) io.stdout(`\r\x1b[2K${text}`);
      else io.stdout(`${text}\n`);
    },
    log(text) {
      if (!io.isTTY || last === '') {
        io.stderr(text);
        return;
      }
      io.stdout('\r\x1b[2K');
      io.stderr(text);
      io.stdout(last);
    },
  };
}
