/*
 * A stdio MCP transport over a supervised child process: the SDK's `Client` speaks through it, the
 * backend watches it. The server runs under the reaper (see `reaper.ts`) in its own process group.
 * A fault — the child's exit, a broken stdin pipe, a line on stdout that is not a JSON-RPC message —
 * closes the transport (`onclose`) with `problem` saying why; the child is then terminated.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import type { Readable } from 'node:stream';
import { ReadBuffer, serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { Clock } from '../../clock.js';
import { reaperArgs } from './reaper.js';

export interface SupervisedStdioOptions {
  command: string;
  args: string[];
  /** The child's whole environment. */
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** SIGTERM, then SIGKILL after this many ms on `close()`. */
  killGraceMs: number;
  clock: Clock;
  /** Each line the server writes on stderr (never forwarded to our stdout). */
  onStderr(line: string): void;
}

/** How the child ended, when it did. */
export interface ExitInfo {
  code: number | null;
  signal: string | null;
}

const MAX_STDERR_LINE = 1_000;

/*
 * The reaper runs in its own process group, so that one signal reaches the server and whatever it
 * started. Node's `detached` gives that through setsid(), a new *session*: with the kernel's
 * autogroup scheduling (on by default) a new session is a new scheduling group, and on a loaded
 * machine every request/response round trip with the server then took ~3 ms instead of ~0.5 ms
 * (measured, interleaved). `perl -e 'setpgrp'` (perl-base is essential on Debian) makes the group
 * within our session; without perl, `detached` it is.
 */
const PERL = existsSync('/usr/bin/perl') ? '/usr/bin/perl' : null;
const SETPGRP_THEN_SH = ['-e', 'setpgrp(0, 0); exec { "/bin/sh" } "/bin/sh", @ARGV or die "exec: $!"', '--'];

/** A `Transport` whose child process is supervised: see the file comment. */
export class SupervisedStdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  /** Why the transport closed (exit, broken pipe, garbage), or null while open or closed by us. */
  problem: string | null = null;
  /** The server's exit, once known. */
  exit: ExitInfo | null = null;
  private child: ChildProcess | null = null;
  private readonly buffer = new ReadBuffer();
  private closed = false;
  private exited: Promise<void> | null = null;
  private starting: Promise<void> | null = null;

  constructor(private readonly options: SupervisedStdioOptions) {}

  /** The reaper's pid (the process group id of the server), once spawned. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Spawns the reaper and the server. Idempotent: the client's `connect()` calls it again. */
  start(): Promise<void> {
    this.starting ??= this.spawnChild();
    return this.starting;
  }

  private spawnChild(): Promise<void> {
    const { command, args, env, cwd, killGraceMs } = this.options;
    const reaper = reaperArgs(command, args, killGraceMs);
    const child = spawn(PERL ?? '/bin/sh', PERL ? [...SETPGRP_THEN_SH, ...reaper] : reaper, {
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
      detached: PERL === null,
      env,
      ...(cwd ? { cwd } : {}),
      windowsHide: true,
    });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.stdout?.on('data', (chunk: Buffer) => this.onStdout(chunk));
    child.stdout?.on('error', () => this.fault('stdout failed'));
    child.stdin?.on('error', (error: NodeJS.ErrnoException) =>
      this.fault(`broken pipe (${error.code ?? 'stdin'})`),
    );
    if (child.stderr)
      splitLines(child.stderr, (line) => this.options.onStderr(line.slice(0, MAX_STDERR_LINE)));
    const lifeline = child.stdio[3] as Readable | undefined;
    if (lifeline) {
      lifeline.on('error', () => {});
      splitLines(lifeline, (line) => {
        const status = Number(line.trim());
        if (line.trim() !== '' && Number.isInteger(status)) this.exit = decodeStatus(status);
      });
    }
    // The reaper exits with the server; its lifeline report is the server's own status. Wait for both
    // (the lifeline can still hold the report when 'exit' fires); without a report the reaper itself died.
    const lifelineClosed = lifeline
      ? new Promise<void>((resolve) => lifeline.once('close', () => resolve()))
      : Promise.resolve();
    child.once('exit', (code, signal) => {
      void lifelineClosed.then(() => {
        this.exit ??= { code, signal };
        const exit = this.exit;
        this.fault(exit.signal ? `exited on ${exit.signal}` : `exited with code ${exit.code}`);
      });
    });
    return new Promise((resolve, reject) => {
      child.once('spawn', () => resolve());
      child.once('error', (error) => {
        this.fault(`cannot spawn: ${error.message}`);
        reject(error);
      });
    });
  }

  private onStdout(chunk: Buffer): void {
    if (this.closed) return;
    try {
      this.buffer.append(chunk);
      for (;;) {
        const message = this.buffer.readMessage();
        if (message === null) break;
        this.onmessage?.(message);
      }
    } catch (error) {
      this.buffer.clear();
      const reason =
        error instanceof SyntaxError ? 'wrote non-JSON to stdout' : 'wrote a non-JSON-RPC line to stdout';
      this.onerror?.(new Error(`MCP server ${reason}`));
      this.fault(reason);
    }
  }

  /** Closes the transport for a reason of the server's making and terminates the child. */
  private fault(problem: string): void {
    if (this.closed) return;
    this.problem = problem;
    void this.close();
  }

  send(message: JSONRPCMessage): Promise<void> {
    const stdin = this.child?.stdin;
    if (this.closed || !stdin || !stdin.writable)
      return Promise.reject(new Error('MCP server stdin is closed'));
    return new Promise((resolve, reject) => {
      const ok = stdin.write(serializeMessage(message), (error) => (error ? reject(error) : undefined));
      if (ok) resolve();
      else stdin.once('drain', () => resolve());
    });
  }

  /**
   * Ends stdin, sends SIGTERM to the process group and SIGKILL after `killGraceMs`; resolves when the
   * reaper exited. Whatever the server left in its group gets SIGKILL after the grace period.
   */
  async close(): Promise<void> {
    const child = this.child;
    if (!this.closed) {
      this.closed = true;
      const { clock, killGraceMs } = this.options;
      if (child && child.exitCode === null && child.signalCode === null) {
        child.stdin?.end();
        signalGroup(child, 'SIGTERM');
        const timer = clock.setTimeout(() => signalGroup(child, 'SIGKILL'), killGraceMs);
        await this.exited;
        clock.clearTimeout(timer);
      }
      await this.exited;
      child?.stdio[3]?.destroy();
      if (child && groupAlive(child)) clock.setTimeout(() => signalGroup(child, 'SIGKILL'), killGraceMs);
      this.onclose?.();
    }
    await this.exited;
  }
}

/** A shell's wait status as an exit: above 128 it is 128 + the number of the signal that killed it. */
function decodeStatus(status: number): ExitInfo {
  if (status > 128) {
    const signal = Object.entries(constants.signals).find(([, number]) => number === status - 128)?.[0];
    if (signal) return { code: null, signal };
  }
  return { code: status, signal: null };
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // No group yet (perl has not run setpgrp) or already gone: the reaper itself, then.
    try {
      child.kill(signal);
    } catch {
      // Gone.
    }
  }
}

/** Whether any process (zombies included) is left in the child's process group. */
function groupAlive(child: ChildProcess): boolean {
  if (child.pid === undefined) return false;
  try {
    process.kill(-child.pid, 0);
    return true;
  } catch {
    return false;
  }
}

function splitLines(stream: Readable, onLine: (line: string) => void): void {
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    pending += chunk;
    let index = pending.indexOf('\n');
    while (index !== -1) {
      onLine(pending.slice(0, index).replace(/\r$/, ''));
      pending = pending.slice(index + 1);
      index = pending.indexOf('\n');
    }
    if (pending.length > 64 * 1024) {
      onLine(pending);
      pending = '';
    }
  });
  stream.on('end', () => {
    if (pending) onLine(pending);
  });
}
