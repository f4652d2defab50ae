import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { Caller } from './caller';

/** A handler that runs only after the bearer token was validated; it receives the verified caller. */
export type SecureHttpHandler = (
  request: HttpRequest,
  context: InvocationContext,
  caller: Caller,
) => Promise<HttpResponseInit> | HttpResponseInit;
