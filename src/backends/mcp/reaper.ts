/*
 * The reaper: a POSIX `sh` script between the bridge and a stdio MCP server, so that no server
 * outlives the bridge — not even when the bridge is SIGKILLed and cannot clean up. (A shell costs
 * about a millisecond to start; a Node reaper cost ~40 ms idle and much more on a loaded machine, on
 * every restart.)
 *
 * The bridge spawns `sh -c REAPER_SCRIPT mcp-lifeline-reaper <graceSeconds> <command> <args…>` detached
 * (its own process group) with four pipes. The script starts the server in its group with fds 0–2
 * inherited, so the server talks to the bridge over the same pipes with no copy in between. Fd 3 is
 * the lifeline, held only by the reaper:
 * - a watcher subshell blocks reading it; at EOF (the bridge exited or was killed) it sends SIGTERM to
 *   the whole group, and SIGKILL after the grace period;
 * - when the server exits, the reaper sends SIGTERM to what the server left in its group, writes the
 *   server's wait status (a number; > 128 is 128 + signal) on the lifeline and exits with it. When that
 *   write fails, the bridge is gone: the watcher is left to finish its SIGKILL phase.
 * The reaper and its watcher ignore SIGTERM/SIGHUP (set after the server started, so the server keeps
 * the default actions), so a group SIGTERM from the bridge reaches the server and the reaper still
 * reports its exit.
 */

/** The reaper script, run with `sh -c`. */
export const REAPER_SCRIPT = `grace=$1; shift
exec 4<&0
"$@" <&4 4<&- 3<&- &
server=$!
exec 4<&-
trap '' TERM HUP PIPE
( while read -r _ <&3; do :; done; kill -TERM 0; sleep "$grace"; kill -KILL 0 ) </dev/null >/dev/null 2>&1 &
watcher=$!
wait "$server"
status=$?
kill -TERM 0 2>/dev/null
if printf '%s\\n' "$status" >&3 2>/dev/null; then kill -KILL "$watcher" 2>/dev/null; fi
exit "$status"
`;

/** The arguments of `/bin/sh` that run `command args` under the reaper. */
export function reaperArgs(command: string, args: readonly string[], graceMs: number): string[] {
  return ['-c', REAPER_SCRIPT, 'mcp-lifeline-reaper', (graceMs / 1000).toFixed(3), command, ...args];
}
