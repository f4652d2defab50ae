/** The auth layer's two error types: what they carry, and what they leave out. */
import { describe, expect, it } from 'vitest';
import { AuthError, ConfigError } from '../../../functions/auth/errors';

describe('AuthError', () => {
  it('carries its code, message, cause, retry hint and claim, and is named AuthError', () => {
    const cause = new Error('library detail');
    const error = new AuthError('signing_keys_unavailable', 'Later.', {
      cause,
      retryAfterSeconds: 3,
      claim: 'kid',
    });
    expect(error).toBeInstanceOf(Error);
    expect({
      name: error.name,
      code: error.code,
      message: error.message,
      cause: error.cause,
      retryAfterSeconds: error.retryAfterSeconds,
      claim: error.claim,
    }).toEqual({
      name: 'AuthError',
      code: 'signing_keys_unavailable',
      message: 'Later.',
      cause,
      retryAfterSeconds: 3,
      claim: 'kid',
    });
    expect(String(error)).toBe('AuthError: Later.');
  });

  it('has no cause property at all without a cause', () => {
    const error = new AuthError('missing_token', 'No token.');
    expect('cause' in error).toBe(false);
    expect(error.retryAfterSeconds).toBeUndefined();
    expect(error.claim).toBeUndefined();
  });
});

describe('ConfigError', () => {
  it('names the setting and the reason, and is named ConfigError', () => {
    const error = new ConfigError('AUTH_AUDIENCES', 'is missing or empty.');
    expect(error).toBeInstanceOf(Error);
    expect(String(error)).toBe('ConfigError: Setting AUTH_AUDIENCES is missing or empty.');
    expect({ setting: error.setting, reason: error.reason }).toEqual({
      setting: 'AUTH_AUDIENCES',
      reason: 'is missing or empty.',
    });
  });
});
