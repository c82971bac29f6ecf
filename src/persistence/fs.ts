/** Node-only file helpers of the persistence layer. */
import {
  accessSync,
  closeSync,
  constants,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname, resolve } from 'node:path';
import { errorMessage } from '../../machines/error-message.js';

/** `fs.writeSync(fd, buffer, offset, length)`: injectable, so that a test can simulate a nearly full disk. */
export type WriteFn = (fd: number, buffer: Uint8Array, offset: number, length: number) => number;

export const defaultWrite: WriteFn = (fd, buffer, offset, length) => writeSync(fd, buffer, offset, length);

/**
 * Writes all of `data` at the file's current position: a short write (the disk nearly full) is
 * continued until every byte is written; an error (ENOSPC, EIO) is thrown. Returns the bytes written.
 */
export function writeFully(fd: number, data: string | Uint8Array, write: WriteFn = defaultWrite): number {
  const buffer = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let offset = 0;
  while (offset < buffer.length) {
    const written = write(fd, buffer, offset, buffer.length - offset);
    if (!Number.isSafeInteger(written) || written <= 0)
      throw Object.assign(new Error(`write made no progress (${offset} of ${buffer.length} bytes)`), {
        code: 'ENOSPC',
      });
    offset += written;
  }
  return buffer.length;
}

/** Makes a rename or a new file in `dir` durable (a no-op where directories cannot be synced). */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Windows and some file systems refuse to open or sync a directory.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Replaces `path` with `text` so that a crash or a full disk never leaves less than one of the two:
 * write a temporary file (every byte), fsync it, read it back and compare, rename it over `path`,
 * fsync the directory. On any failure the temporary file is removed, `path` is untouched, and the
 * error is thrown.
 */
export function writeFileAtomic(path: string, text: string, write: WriteFn = defaultWrite): void {
  const temp = `${path}.${process.pid}.tmp`;
  const expected = Buffer.from(text, 'utf8');
  const fd = openSync(temp, 'w');
  try {
    writeFully(fd, expected, write);
    fsyncSync(fd);
    closeSync(fd);
    const actual = readFileSync(temp);
    if (!actual.equals(expected))
      throw new Error(
        `${temp}: read back ${actual.length} bytes, wrote ${expected.length}: not replacing ${path}`,
      );
  } catch (error) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    try {
      unlinkSync(temp);
    } catch {
      // already gone
    }
    throw error;
  }
  renameSync(temp, path);
  fsyncDir(dirname(path));
}

/** Plain words for the file system errors a data directory meets. */
function reasonOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'read-only file system';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'ENOTDIR':
    case 'EEXIST':
      return 'a file (not a directory) is in the way';
    default:
      return errorMessage(error);
  }
}

/** The data directory cannot be used: names the directory and why. */
export class DataDirError extends Error {
  override readonly name = 'DataDirError';
  constructor(
    readonly dir: string,
    readonly reason: string,
    override readonly cause?: unknown,
  ) {
    super(`data directory ${dir} cannot be used: ${reason}`);
  }
}

/**
 * Creates `dir` if missing and checks that files can be created in it; throws a {@link DataDirError}
 * naming the directory and the reason (not a bare `ENOENT … mkdir`).
 */
export function ensureDataDir(dir: string): void {
  const absolute = resolve(dir);
  try {
    mkdirSync(absolute, { recursive: true });
    if (!statSync(absolute).isDirectory())
      throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    accessSync(absolute, constants.W_OK);
    const probe = `${absolute}/.write-check.${process.pid}`;
    closeSync(openSync(probe, 'w'));
    unlinkSync(probe);
  } catch (error) {
    throw new DataDirError(absolute, reasonOf(error), error);
  }
}
