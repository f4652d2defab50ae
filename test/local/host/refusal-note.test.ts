/**
 * The built-in host reads back the auth layer's refusal note (functions/auth/refusal-note.ts) to
 * fold it into its request line: every note the app writes, and nothing else.
 */
import { describe, expect, it } from 'vitest';
import { AuthError, AuthErrorCode } from '../../../functions/auth/errors';
import { ANSWERS } from '../../../functions/auth/http-edge';
import { formatRefusalNote } from '../../../functions/auth/refusal-note';
import { JwksFetchError } from '../../../functions/auth/signing-keys';
import { parseRefusalNote } from '../../../scripts/local/host/refusal-note';

const ID = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
const unavailable = (cause?: unknown): AuthError =>
  new AuthError('signing_keys_unavailable', 'The signing keys could not be fetched.', {
    retryAfterSeconds: 5,
    cause,
  });

const codes = Object.keys(ANSWERS).filter(
  (code) => code !== 'configuration_error' && code !== 'internal_error',
) as AuthErrorCode[];

describe('parseRefusalNote', () => {
  it('reads back every note formatRefusalNote writes', () => {
    for (const code of codes) {
      expect(parseRefusalNote(formatRefusalNote(new AuthError(code, 'm'), ID))).toEqual({
        code,
        invocationId: ID,
      });
    }
    const why = 'the JWKS endpoint did not answer within 5000 ms';
    expect(parseRefusalNote(formatRefusalNote(unavailable(new JwksFetchError(why)), ID))).toEqual({
      code: 'signing_keys_unavailable',
      invocationId: ID,
      why,
    });
  });

  it.each([
    ['another warning', 'The cache is cold.'],
    ['a note with another prefix', `Request accepted: missing_token (invocation ${ID})`],
    ['a code that is no code', `Request refused: Missing-Token (invocation ${ID})`],
    ['a note with text before it', `x Request refused: missing_token (invocation ${ID})`],
    ['a note with text after it', `Request refused: missing_token (invocation ${ID}) and more`],
    ['a note on two lines', `Request refused: missing_token (invocation ${ID})\nforged line`],
    ['an empty reason', `Request refused: signing_keys_unavailable (invocation ${ID}): `],
    ['an invocation id with a space', 'Request refused: missing_token (invocation a b)'],
  ])('is undefined for %s', (_case, line) => {
    expect(parseRefusalNote(line)).toBeUndefined();
  });
});
