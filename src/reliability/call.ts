/** The signal given to a call whose caller passed none: it never aborts. */
export const neverAborted: AbortSignal = new AbortController().signal;

/** Whether a call returned a promise (or any thenable) rather than a plain value. */
export function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return value !== null && typeof value === 'object' && typeof (value as PromiseLike<T>).then === 'function';
}
