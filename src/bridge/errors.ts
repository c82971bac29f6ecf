export { BackendUnavailableError, ToolExecutionError } from '../tools/errors.js';

/** Bridge configuration is invalid; `key` names the setting at fault (e.g. `backends.lmStudio.url`). */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly key: string,
    problem: string,
  ) {
    super(`${key}: ${problem}`);
  }
}
