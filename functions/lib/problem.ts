import type { HttpResponseInit } from '@azure/functions';

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
