import {
  app,
  HttpHandler,
  HttpMethod,
  HttpRequest,
  HttpResponseInit,
  InvocationContext,
} from '@azure/functions';
import type { Caller } from './caller';
import { withAuthentication } from './middleware';

/** A handler that runs only after the bearer token was validated; it receives the verified caller. */
export type SecureHttpHandler = (
  request: HttpRequest,
  context: InvocationContext,
  caller: Caller,
) => Promise<HttpResponseInit> | HttpResponseInit;

export interface SecureHttpOptions {
  /** HTTP methods the trigger answers. */
  methods: HttpMethod[];
  /** Route below `/api/`, for example `hello`. */
  route: string;
  handler: SecureHttpHandler;
}

/** One HTTP trigger as the Functions host sees it: the handler is already wrapped by the auth layer. */
export interface Registration {
  readonly name: string;
  readonly methods: readonly HttpMethod[];
  readonly route: string;
  readonly handler: HttpHandler;
}

const registered: Registration[] = [];

/**
 * Registers an HTTP trigger whose handler only runs for a caller that passed token validation.
 * This is the only way triggers are registered in this app (ESLint forbids `app.http` in
 * `functions/`), so a trigger without authentication cannot be added by accident.
 */
export function secureHttp(name: string, options: SecureHttpOptions): void {
  if (registered.some((r) => r.name === name)) {
    throw new TypeError(`A trigger named "${name}" is already registered.`);
  }
  const registration: Registration = {
    name,
    methods: [...options.methods],
    route: options.route,
    handler: withAuthentication(options.handler),
  };
  registered.push(registration);
  app.http(name, {
    methods: [...registration.methods],
    authLevel: 'anonymous',
    route: registration.route,
    handler: registration.handler,
  });
}

/** Every trigger registered so far, in registration order (used by the built-in host and tests). */
export function registrations(): readonly Registration[] {
  return registered;
}
