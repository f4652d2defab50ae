/** Normalises anything thrown into an `Error`; a thrown non-error is kept as `cause`. */
export function ensureError(value: unknown): Error {
  if (value instanceof Error) return value;
  return new Error(typeof value === 'string' ? value : `Non-error thrown: ${typeof value}`, {
    cause: value,
  });
}
