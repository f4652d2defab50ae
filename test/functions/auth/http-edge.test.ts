import { HttpResponse } from '@azure/functions';
import { describe, expect, it } from 'vitest';
import { AuthError, AuthErrorCode, ConfigError } from '../../../functions/auth/errors';
import {
  ANSWERS,
  EdgeCode,
  internalError,
  misconfigured,
  refusal,
  statusFor,
} from '../../../functions/auth/http-edge';

const EXPECTED: Record<EdgeCode, number> = {
  missing_token: 401,
  token_too_large: 401,
  malformed_token: 401,
  unsupported_algorithm: 401,
  missing_key_id: 401,
  unknown_signing_key: 401,
  invalid_signature: 401,
  invalid_issuer: 401,
  invalid_audience: 401,
  invalid_tenant: 401,
  token_expired: 401,
  token_not_yet_valid: 401,
  missing_claim: 401,
  delegated_token: 403,
  caller_not_allowed: 403,
  client_not_allowed: 403,
  missing_role: 403,
  signing_keys_unavailable: 503,
  configuration_error: 500,
  internal_error: 500,
};

async function read(init: ReturnType<typeof refusal>) {
  const response = new HttpResponse(init);
  return { response, body: (await response.json()) as Record<string, unknown> };
}

describe('the HTTP edge of the auth layer', () => {
  it('maps every code, its own failures included, to one status', () => {
    expect(Object.keys(ANSWERS).sort()).toEqual(Object.keys(EXPECTED).sort());
    for (const [code, status] of Object.entries(EXPECTED)) {
      expect({ code, status: statusFor(code as EdgeCode) }).toEqual({ code, status });
    }
  });

  it.each(Object.entries(EXPECTED).filter(([, status]) => status === 401 || status === 403))(
    '%s: a problem body with the code, a Bearer challenge, never cached',
    async (code, status) => {
      const { response, body } = await read(refusal(new AuthError(code as AuthErrorCode, 'Why.')));
      expect(response.status).toBe(status);
      expect(body).toMatchObject({ status, code, detail: 'Why.' });
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.headers.get('www-authenticate')).toBe(
        code === 'missing_token'
          ? 'Bearer'
          : status === 403
            ? 'Bearer error="insufficient_scope"'
            : 'Bearer error="invalid_token", error_description="Why."',
      );
    },
  );

  it('answers 503 with the retry hint of the error, 5 seconds without one', async () => {
    const hinted = await read(
      refusal(new AuthError('signing_keys_unavailable', 'Later.', { retryAfterSeconds: 7 })),
    );
    expect(hinted.response.status).toBe(503);
    expect(hinted.response.headers.get('retry-after')).toBe('7');
    expect(hinted.response.headers.get('www-authenticate')).toBeNull();
    const plain = await read(refusal(new AuthError('signing_keys_unavailable', 'Later.')));
    expect(plain.response.headers.get('retry-after')).toBe('5');
  });

  it('answers a configuration error with 500 naming the setting', async () => {
    const { response, body } = await read(
      misconfigured(new ConfigError('AUTH_TENANT_ID', 'is missing or empty.')),
    );
    expect(response.status).toBe(500);
    expect(body).toMatchObject({ code: 'configuration_error' });
    expect(String(body.detail)).toContain('AUTH_TENANT_ID');
    expect(response.headers.get('www-authenticate')).toBeNull();
  });

  it('answers an internal error with a generic 500', async () => {
    const { response, body } = await read(internalError());
    expect(response.status).toBe(500);
    expect(body).toMatchObject({
      code: 'internal_error',
      detail: 'The request could not be processed.',
    });
  });

  it('keeps HTTP out of AuthError: it carries the code, cause, retry hint and claim', () => {
    const cause = new Error('library detail');
    const error = new AuthError('token_expired', 'Expired.', { cause, claim: 'exp' });
    expect(error).toMatchObject({ code: 'token_expired', cause, claim: 'exp' });
    expect('status' in error).toBe(false);
  });
});
