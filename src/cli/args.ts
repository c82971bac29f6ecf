/** A small option parser for the CLI: `--flag`, `--opt value` and `--opt=value`. */

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** `strings`: a repeatable option collected into an array. */
export type OptionSpec = Record<string, 'string' | 'strings' | 'boolean'>;

export interface ParsedArgs {
  options: Record<string, string | string[] | boolean | undefined>;
  positionals: string[];
}

/**
 * Parses `argv` against `spec` (keys without the leading dashes; `-h` is `--help`). Throws
 * `UsageError` for an unknown option or a missing value.
 */
export function parseArgs(argv: readonly string[], spec: OptionSpec): ParsedArgs {
  const options: Record<string, string | string[] | boolean | undefined> = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i] as string;
    if (raw === '-h') {
      options.help = true;
      continue;
    }
    if (!raw.startsWith('--') || raw === '--') {
      positionals.push(raw);
      continue;
    }
    const eq = raw.indexOf('=');
    const name = eq > 0 ? raw.slice(2, eq) : raw.slice(2);
    const kind = name === 'help' ? 'boolean' : spec[name];
    if (!kind) throw new UsageError(`unknown option --${name}`);
    if (kind === 'boolean') {
      if (eq > 0) throw new UsageError(`--${name} takes no value`);
      options[name] = true;
      continue;
    }
    const value = eq > 0 ? raw.slice(eq + 1) : argv[++i];
    if (value === undefined || value === '' || (eq < 0 && value.startsWith('--')))
      throw new UsageError(`--${name} needs a value`);
    if (kind === 'strings') {
      const previous = options[name];
      options[name] = [...(Array.isArray(previous) ? previous : []), value];
    } else options[name] = value;
  }
  return { options, positionals };
}

/** Parses a port 0–65535 given to `flag`. */
export function parsePort(flag: string, value: string): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535)
    throw new UsageError(`${flag} needs a port number 0-65535, got ${value}`);
  return Number(value);
}

/** Parses `HOST:PORT` (`[::1]:PORT` for IPv6; a bare `PORT` means 127.0.0.1). */
export function parseHostPort(flag: string, value: string): { host: string; port: number } {
  if (/^\d+$/.test(value)) return { host: '127.0.0.1', port: parsePort(flag, value) };
  const match = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(value);
  if (!match) throw new UsageError(`${flag} needs HOST:PORT (e.g. 127.0.0.1:8790), got ${value}`);
  const host = (match[1] as string).replace(/^\[(.*)\]$/, '$1');
  return { host, port: parsePort(flag, match[2] as string) };
}
