/**
 * jsonwebtoken and jwks-rsa, the token validation libraries, imported through this one module.
 * `npm run build` replaces its compiled form (dist/functions/auth/libraries.js) with a bundle of
 * both libraries made by esbuild (package.json `build`), so that the deployed app loads one file
 * instead of some hundred modules: what a new instance pays to load them (docs/token-validation.md).
 */
import jwt from 'jsonwebtoken';

export { JwksClient } from 'jwks-rsa';
export type { JSONWebKey, SigningKey } from 'jwks-rsa';
export type { VerifyOptions } from 'jsonwebtoken';
export { jwt };
