/**
 * jsonwebtoken and jwks-rsa, the token validation libraries, imported through this one module.
 *
 * Of jsonwebtoken, only what verifying needs: its `verify` module and the two errors it throws for
 * the token's lifetime (the package's index also loads `sign` and its dependencies, which the app
 * never calls). `npm run build` bundles this module with the rest of the auth layer into one file
 * (scripts/build/bundle.mjs): what a new instance pays to load them (docs/token-validation.md).
 */
import verify from 'jsonwebtoken/verify';
import NotBeforeError from 'jsonwebtoken/lib/NotBeforeError';
import TokenExpiredError from 'jsonwebtoken/lib/TokenExpiredError';

export { JwksClient } from 'jwks-rsa';
export type { JSONWebKey, SigningKey } from 'jwks-rsa';
export type { VerifyOptions } from 'jsonwebtoken';

export const jwt = { verify, NotBeforeError, TokenExpiredError };
