/**
 * Every CLI command in one import (for programs that embed them). `src/cli.ts` does not use this:
 * it loads each command's own module only when that command runs.
 */
export { HEALTH_USAGE, healthCommand, settledHealth } from './health.js';
export { LAB_USAGE, labCommand } from './lab.js';
export { SERVE_USAGE, serveCommand } from './serve.js';
export { START_USAGE, startCommand } from './start.js';
export { packageVersion } from './version.js';
