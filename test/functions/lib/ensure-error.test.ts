/** ensureError: anything thrown becomes an Error, and a thrown non-error is kept as its cause. */
import { describe, expect, it } from 'vitest';
import { ensureError } from '../../../functions/lib/errors';

describe('ensureError', () => {
  it('returns an error as it is', () => {
    const error = new RangeError('x');
    expect(ensureError(error)).toBe(error);
  });

  it.each([
    ['a string', 'went wrong', 'went wrong'],
    ['a number', 42, 'Non-error thrown: number'],
    ['undefined', undefined, 'Non-error thrown: undefined'],
    ['an object', { message: 'not an error' }, 'Non-error thrown: object'],
  ])('wraps %s, keeping it as the cause', (_case, value, message) => {
    const error = ensureError(value);
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toBe(message);
    expect(error.cause).toBe(value);
  });
});
