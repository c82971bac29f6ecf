/*
 * `npm run prometheus -- [HOST:PORT…]`: runs a local Prometheus (Debian's `prometheus`, or
 * `PROMETHEUS_BIN`) scraping `/metrics` of `mcp-lifeline serve --http` every second (default target
 * 127.0.0.1:8790, the port `npm start` uses), with its data in a temp dir; prints its URL. Ctrl-C
 * stops it. `startPrometheus` is what test/prometheus.test.ts runs.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { isMainModule } from '../src/is-main.js';

/** The scrape job's name in the generated configuration. */
export const PROMETHEUS_JOB = 'mcp-lifeline';
export const PROMETHEUS_INSTALL_HINT =
  'Prometheus is not installed: `sudo apt-get install prometheus` (Debian), or set PROMETHEUS_BIN';

/** The `prometheus` binary: `PROMETHEUS_BIN`, else the first on PATH, else undefined. */
export function findPrometheus(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.PROMETHEUS_BIN) return existsSync(env.PROMETHEUS_BIN) ? env.PROMETHEUS_BIN : undefined;
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'prometheus');
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** The configuration: one job scraping `targets` (HOST:PORT) at `/metrics` every second. */
export function prometheusConfig(targets: readonly string[]): string {
  return [
    'global:',
    '  scrape_interval: 1s',
    '  evaluation_interval: 1s',
    'scrape_configs:',
    `  - job_name: ${PROMETHEUS_JOB}`,
    '    metrics_path: /metrics',
    '    static_configs:',
    `      - targets: [${targets.map((t) => JSON.stringify(t)).join(', ')}]`,
    '',
  ].join('\n');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A running Prometheus. */
export interface RunningPrometheus {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly process: ChildProcess;
  /** Its output so far (for failure messages). */
  output(): string;
  /** Stops it (SIGTERM to its process group, SIGKILL after 5 s) and removes its temp dir. */
  stop(): Promise<void>;
}

/** Starts Prometheus unprivileged on 127.0.0.1, config and TSDB in a fresh temp dir. */
export async function startPrometheus(options: {
  targets: readonly string[];
  binary?: string;
  port?: number;
}): Promise<RunningPrometheus> {
  const binary = options.binary ?? findPrometheus();
  if (!binary) throw new Error(PROMETHEUS_INSTALL_HINT);
  const dir = mkdtempSync(join(tmpdir(), 'mcp-lifeline-prometheus-'));
  const config = join(dir, 'prometheus.yml');
  writeFileSync(config, prometheusConfig(options.targets));
  const port = options.port ?? (await freePort());
  const child = spawn(
    binary,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stopping: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    process: child,
    output: () => output,
    stop() {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
          process.kill(-child.pid, 'SIGTERM');
          const timer = setTimeout(() => {
            if (child.exitCode === null && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
          }, 5_000);
          await exited;
          clearTimeout(timer);
        }
        rmSync(dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}

async function main(args: string[]): Promise<void> {
  const targets = args.length > 0 ? args : ['127.0.0.1:8790'];
  const prometheus = await startPrometheus({ targets });
  process.stdout.write(`Prometheus at ${prometheus.url}, scraping ${targets.join(', ')} every 1 s\n`);
  process.stdout.write(`  ${prometheus.url}/graph?g0.expr=mcp_lifeline_circuit_breaker_state\n`);
  let stopping = false;
  const stop = () => {
    stopping = true;
    void prometheus.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  prometheus.process.once('exit', (code) => {
    if (stopping) return;
    process.stderr.write(prometheus.output());
    process.exit(code ?? 1);
  });
}

if (isMainModule(import.meta.url)) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
