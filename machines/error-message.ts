/**
 * The one way an error becomes text (logs, health reports, tool failures): `message` of an `Error` or
 * of any object with a string `message`, else `String(error)`. A pure helper beside the machines so
 * that every layer above them can share it.
 */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(error);
}
