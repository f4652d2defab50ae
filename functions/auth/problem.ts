import type { HttpResponseInit } from '@azure/functions';
import { AuthError } from './errors';

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** An `application/problem+json` response (RFC 9457) with a short reason `code`. */
export function problem(
  status: number,
  code: string,
  detail: string,
  headers: Record<string, string> = {},
): HttpResponseInit {
  return {
    status,
    headers: {
      'Content-Type': 'application/problem+json',
      'Cache-Control': 'no-store',
      ...headers,
    },
    jsonBody: { type: 'about:blank', title: TITLES[status] ?? 'Error', status, code, detail },
  };
}

/**
 * The response for a refused request: 401 with an RFC 6750 challenge, 403 for a caller that is not
 * allowed, 503 with Retry-After when the signing keys are unavailable.
 */
export function authProblem(error: AuthError): HttpResponseInit {
  const headers: Record<string, string> = {};
  if (error.status === 401) {
    headers['WWW-Authenticate'] =
      error.code === 'missing_token'
        ? 'Bearer'
        : `Bearer error="invalid_token", error_description="${error.message}"`;
  } else if (error.status === 403) {
    headers['WWW-Authenticate'] = 'Bearer error="insufficient_scope"';
  } else {
    headers['Retry-After'] = String(error.retryAfterSeconds ?? 5);
  }
  return problem(error.status, error.code, error.message, headers);
}
