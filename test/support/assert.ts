import { expect } from 'vitest';

/**
 * Asserts that `value` is there and returns it, typed without `undefined` or `null`: use it instead
 * of a non-null assertion (`value!`), which only silences the compiler.
 */
export function defined<T>(value: T | undefined | null, what: string): T {
  expect(value, what).toBeDefined();
  expect(value, what).not.toBeNull();
  if (value === undefined || value === null) throw new Error(`${what} is missing`);
  return value;
}
