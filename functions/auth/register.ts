import { app, HttpMethod } from '@azure/functions';
import { Authentication, createAuthentication } from './middleware';
import type { SecureHttpHandler } from './secure-handler';

export type { SecureHttpHandler } from './secure-handler';

export interface SecureHttpOptions {
  /** HTTP methods the trigger answers. */
  methods: HttpMethod[];
  /** Route below `/api/`, for example `hello`. */
  route: string;
  handler: SecureHttpHandler;
}

/** The app's one auth layer, built from `process.env` when the first trigger is registered. */
let authentication: Authentication | undefined;
const names = new Set<string>();

/**
 * Registers an HTTP trigger whose handler only runs for a caller that passed token validation.
 * This is the only way triggers are registered in this app (ESLint forbids `app.http` in
 * `functions/`), so a trigger without authentication cannot be added by accident. The first call
 * validates the `AUTH_*` settings: the app starts with them checked, and a mistake is logged once.
 */
export function secureHttp(name: string, options: SecureHttpOptions): void {
  if (names.has(name)) throw new TypeError(`A trigger named "${name}" is already registered.`);
  names.add(name);
  authentication ??= createAuthentication({ env: process.env });
  app.http(name, {
    methods: [...options.methods],
    authLevel: 'anonymous',
    route: options.route,
    handler: authentication.protect(options.handler),
  });
}
