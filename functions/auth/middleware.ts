import type { HttpHandler, HttpResponseInit, InvocationContext } from '@azure/functions';
import { Environment, loadAuthConfig } from './config';
import { AuthError, ConfigError, ensureError } from './errors';
import { authProblem, problem } from './problem';
import type { SecureHttpHandler } from './register';
import { SigningKeyProvider, SigningKeyStore } from './signing-keys';
import { TokenValidator } from './token-validator';

export interface AuthenticationOptions {
  /** Where the `AUTH_*` settings come from; default `process.env`. */
  env?: Environment;
  /** Signing keys; default a `SigningKeyStore` for `AUTH_JWKS_URI`. */
  keys?: SigningKeyProvider;
  now?: () => number;
}

type Authenticator = TokenValidator | ConfigError;

let authenticator: Authenticator | undefined;
let options: AuthenticationOptions = {};

/**
 * Replaces how the auth layer is built (tests, the benchmark). The configuration is read again on
 * the next request. Without a call, it is read once from `process.env`.
 */
export function configureAuthentication(next: AuthenticationOptions = {}): void {
  options = next;
  authenticator = undefined;
}

/** The process-wide validator, built once; a configuration error is kept and reported on every request. */
export function getAuthenticator(): Authenticator {
  if (!authenticator) {
    try {
      const config = loadAuthConfig(options.env ?? process.env);
      const keys =
        options.keys ?? new SigningKeyStore({ jwksUri: config.jwksUri, now: options.now });
      authenticator = new TokenValidator(config, keys, options.now);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      authenticator = error;
    }
  }
  return authenticator;
}

/**
 * Wraps a handler so that it only runs for a caller with a valid token. Refusals are answered here
 * and logged once at warning level with their code and the invocation id; neither the response
 * nor the log ever holds the token or the values it was checked against.
 */
export function withAuthentication(handler: SecureHttpHandler): HttpHandler {
  return async (request, context): Promise<HttpResponseInit> => {
    const validator = getAuthenticator();
    if (validator instanceof ConfigError) {
      context.error(
        `Authentication is misconfigured: ${validator.message} (invocation ${context.invocationId})`,
      );
      return problem(500, 'configuration_error', `The app is misconfigured: ${validator.message}`);
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
      return problem(500, 'internal_error', 'The request could not be processed.');
    }
  };
}

function refuse(error: unknown, context: InvocationContext): HttpResponseInit {
  if (error instanceof AuthError) {
    context.warn(`Request refused: ${error.code} (invocation ${context.invocationId})`);
    return authProblem(error);
  }
  context.error(
    `Token validation failed unexpectedly: ${ensureError(error).name} (invocation ${context.invocationId})`,
  );
  return problem(500, 'internal_error', 'The request could not be processed.');
}
