/*
 * The reaper: a small Node program between the bridge and a stdio MCP server, so that no server
 * outlives the bridge — not even when the bridge is SIGKILLed and cannot clean up.
 *
 * The bridge spawns the reaper detached (its own process group) with four pipes. The reaper spawns
 * the server in its group with fds 0–2 inherited: the server talks to the bridge over the same pipes,
 * with no copy in between. Fd 3 is the lifeline, which only the reaper holds: when it closes (the
 * bridge exited or was killed), the reaper sends SIGTERM to the whole group and SIGKILL after the grace
 * period. When the server exits, the reaper writes `{"code","signal"}` on the lifeline, stops what the
 * server left behind in its group and exits too. The reaper ignores SIGTERM, so that after a group
 * SIGTERM from the bridge it still reports the server's exit.
 */

/** Source of the reaper, run with `node -e`; argv[1] is `JSON.stringify([command, args, graceMs])`. */
export const REAPER_SOURCE = `
'use strict';
const { spawn } = require('node:child_process');
const net = require('node:net');
const [command, args, graceMs] = JSON.parse(process.argv[1]);
const life = new net.Socket({ fd: 3, readable: true, writable: true });
let exited = false;
let reaping = false;
process.on('SIGTERM', () => {});
process.on('SIGINT', () => {});
function killGroup(signal) { try { process.kill(-process.pid, signal); } catch {} }
function reap() {
  if (reaping) return;
  reaping = true;
  if (exited) process.exit(0);
  killGroup('SIGTERM');
  setTimeout(() => killGroup('SIGKILL'), graceMs).unref();
}
life.on('end', reap);
life.on('close', reap);
life.on('error', reap);
life.resume();
const child = spawn(command, args, { stdio: 'inherit' });
child.on('error', (error) => {
  exited = true;
  process.stderr.write('cannot start ' + command + ': ' + error.code + '\\n');
  life.end(JSON.stringify({ code: 127, signal: null, error: String(error.code) }) + '\\n', () => process.exit(127));
  setTimeout(() => process.exit(127), 1000).unref();
});
child.on('exit', (code, signal) => {
  exited = true;
  killGroup('SIGTERM');
  const status = code === null ? 1 : code;
  life.end(JSON.stringify({ code, signal }) + '\\n', () => process.exit(status));
  setTimeout(() => process.exit(status), 1000).unref();
});
`;
