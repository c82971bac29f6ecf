/** A tool needs a backend that is not connected (down, reconnecting, not started or stopped). */
export class BackendUnavailableError extends Error {
  override readonly name = 'BackendUnavailableError';
  constructor(
    readonly backend: string,
    readonly state: string,
    detail?: string | null,
  ) {
    super(`Backend "${backend}" is unavailable (${state}${detail ? `: ${detail}` : ''})`);
  }
}

/** A backend answered, but reported that the operation failed (`success: false` in its reply). */
export class ToolExecutionError extends Error {
  override readonly name = 'ToolExecutionError';
}

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
