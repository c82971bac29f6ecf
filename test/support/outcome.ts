/** Settles `promise` into an outcome that a test reads later, without letting any clock move. */
export function outcomeOf<T>(promise: Promise<T>) {
  const box: { outcome?: { value: T } | { error: unknown } } = {};
  promise.then(
    (value) => {
      box.outcome = { value };
    },
    (error: unknown) => {
      box.outcome = { error };
    },
  );
  return box;
}
