/**
 * The refusal note: the one log line of a refused request (functions/auth/refusal-note.ts). It names
 * the code and the invocation; a 503 also says why the signing keys were unavailable, in words the
 * app wrote itself (test/local/host/refusal-note.test.ts reads it back as the local host does).
 */
import { describe, expect, it } from 'vitest';
import { AuthError, AuthErrorCode } from '../../../functions/auth/errors';
import { ANSWERS } from '../../../functions/auth/http-edge';
import { formatRefusalNote } from '../../../functions/auth/refusal-note';
import { JwksFetchError } from '../../../functions/auth/signing-keys';

const ID = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
const unavailable = (cause?: unknown): AuthError =>
  new AuthError('signing_keys_unavailable', 'The signing keys could not be fetched.', {
    retryAfterSeconds: 5,
    cause,
  });

const codes = Object.keys(ANSWERS).filter(
  (code) => code !== 'configuration_error' && code !== 'internal_error',
) as AuthErrorCode[];

describe('formatRefusalNote', () => {
  it.each(codes.filter((code) => code !== 'signing_keys_unavailable'))(
    '%s: the code and the invocation, nothing from the error or its cause',
    (code) => {
      const error = new AuthError(code, 'A message for the client.', {
        cause: new JwksFetchError('the JWKS endpoint answered HTTP 503'),
        claim: 'exp',
      });
      expect(formatRefusalNote(error, ID)).toBe(`Request refused: ${code} (invocation ${ID})`);
    },
  );

  it('signing_keys_unavailable: says why, from the fetch failure', () => {
    const error = unavailable(new JwksFetchError('the JWKS endpoint answered HTTP 503'));
    expect(formatRefusalNote(error, ID)).toBe(
      `Request refused: signing_keys_unavailable (invocation ${ID}): the JWKS endpoint answered HTTP 503`,
    );
  });

  it('signing_keys_unavailable: names a failure of another kind, not its message', () => {
    const error = unavailable(new TypeError('eyJhbGciOiJSUzI1NiJ9 is not iterable'));
    expect(formatRefusalNote(error, ID)).toBe(
      `Request refused: signing_keys_unavailable (invocation ${ID}): the signing keys could not be read (TypeError)`,
    );
  });

  it.each([
    ['no cause', undefined],
    ['a cause that is no Error', 'the JWKS endpoint answered HTTP 503'],
  ])('signing_keys_unavailable with %s: the code alone', (_case, cause) => {
    expect(formatRefusalNote(unavailable(cause), ID)).toBe(
      `Request refused: signing_keys_unavailable (invocation ${ID})`,
    );
  });

  it('keeps the reason on one line of printable characters', () => {
    const error = unavailable(new JwksFetchError('the JWKS\r\nendpoint\u0000 failed\u2028 \u0085'));
    expect(formatRefusalNote(error, ID)).toBe(
      `Request refused: signing_keys_unavailable (invocation ${ID}): the JWKS endpoint failed`,
    );
  });

  it('cuts a reason longer than 200 characters', () => {
    const atLimit = formatRefusalNote(unavailable(new JwksFetchError('x'.repeat(200))), ID);
    expect(atLimit.endsWith(`: ${'x'.repeat(200)}`)).toBe(true);
    const over = formatRefusalNote(unavailable(new JwksFetchError('x'.repeat(201))), ID);
    expect(over.endsWith(`: ${'x'.repeat(199)}…`)).toBe(true);
  });
});
