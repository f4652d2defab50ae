import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { Caller } from './auth/caller';
import { secureHttp } from './auth/register';

/** `GET /api/whoami`: the caller as the validated token describes it. */
export function whoami(
  _request: HttpRequest,
  _context: InvocationContext,
  caller: Caller,
): HttpResponseInit {
  return {
    status: 200,
    headers: { 'Cache-Control': 'no-store' },
    jsonBody: {
      objectId: caller.objectId,
      clientId: caller.clientId ?? null,
      tenantId: caller.tenantId,
      issuer: caller.issuer,
      tokenVersion: caller.tokenVersion,
      roles: caller.roles,
      expiresAt: caller.expiresAt.toISOString(),
    },
  };
}

secureHttp('whoami', { methods: ['GET'], route: 'whoami', handler: whoami });
