import type { HttpHandler, HttpResponseInit, InvocationContext } from '@azure/functions';
import { ensureError } from '../lib/errors';
import { Environment, loadAuthConfig } from './config';
import { AuthError, ConfigError } from './errors';
import { internalError, misconfigured, refusal } from './http-edge';
import { formatRefusalNote } from './refusal-note';
import { recordRefusal } from '../telemetry/refusal-record';
import type { SecureHttpHandler } from './secure-handler';
import { SigningKeyProvider, SigningKeyStore } from './signing-keys';
import { TokenValidator } from './token-validator';

export interface AuthenticationOptions {
  /** Where the `AUTH_*` settings come from (the app passes `process.env`). */
  env: Environment;
  /** Signing keys; default a `SigningKeyStore` for `AUTH_JWKS_URI`. */
  keys?: SigningKeyProvider;
  now?: () => number;
  /** Where a configuration error is reported, once; default `console.error` (the host's log). */
  logError?: (line: string) => void;
}

/** The auth layer of one app: its validated configuration, its signing keys and its validator. */
export interface Authentication {
  /** Why the `AUTH_*` settings were refused; undefined when they are valid. */
  readonly configError: ConfigError | undefined;
  /**
   * Wraps a handler so that it only runs for a caller with a valid token. Refusals are answered
   * here and logged once at warning level with their code and the invocation id, and for a 503
   * why the signing keys were unavailable (functions/auth/refusal-note.ts); neither the response
   * nor the log ever holds the token or the values it was checked against.
   */
  protect(handler: SecureHttpHandler): HttpHandler;
}

/**
 * Reads and validates the configuration now, so that a mistake is reported when the app starts
 * (once) rather than on the first request. A misconfigured app still starts, and answers every
 * request with a 500 problem naming the setting at fault: a missing setting never means "allow".
 */
export function createAuthentication(options: AuthenticationOptions): Authentication {
  const validator = build(options);
  if (validator instanceof ConfigError) {
    (options.logError ?? console.error)(`Authentication is misconfigured: ${validator.message}`);
  }

  const protect = (handler: SecureHttpHandler): HttpHandler => {
    return async (request, context): Promise<HttpResponseInit> => {
      if (validator instanceof ConfigError) {
        recordRefusal(context, validator); // Refusal telemetry: functions/telemetry/refusal-record.ts
        return misconfigured(validator);
      }
      let caller;
      try {
        caller = await validator.validate(request.headers.get('authorization'));
      } catch (error) {
        return refuse(error, context);
      }
      try {
        return await handler(request, context, caller);
      } catch (error) {
        context.error(
          `Handler failed: ${ensureError(error).name} (invocation ${context.invocationId})`,
        );
        return internalError();
      }
    };
  };
  return { configError: validator instanceof ConfigError ? validator : undefined, protect };
}

function build(options: AuthenticationOptions): TokenValidator | ConfigError {
  try {
    const config = loadAuthConfig(options.env);
    let keys = options.keys;
    if (!keys) {
      const store = new SigningKeyStore({ jwksUri: config.jwksUri, now: options.now });
      // The first fetch starts as the app starts, so the first request does not wait for it.
      store.prefetch();
      keys = store;
    }
    return new TokenValidator(config, keys, options.now);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
}

function refuse(error: unknown, context: InvocationContext): HttpResponseInit {
  if (error instanceof AuthError) {
    context.warn(formatRefusalNote(error, context.invocationId));
    recordRefusal(context, error); // Refusal telemetry: functions/telemetry/refusal-record.ts
    return refusal(error);
  }
  context.error(
    `Token validation failed unexpectedly: ${ensureError(error).name} (invocation ${context.invocationId})`,
  );
  recordRefusal(context, error); // Refusal telemetry: functions/telemetry/refusal-record.ts
  return internalError();
}
