/** One request of the smoke checks and its answer, and the helpers the checks share. */
import { randomBytes } from 'node:crypto';

export interface Exchange {
  readonly url: string;
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
  readonly error?: string;
}

/** Response headers that describe the backend and that API Management's outbound policy removes. */
export const BACKEND_HEADERS = [
  'x-powered-by',
  'x-aspnet-version',
  'x-aspnetmvc-version',
  'request-context',
];

export const SUBSCRIPTION_KEY_HEADER = 'ocp-apim-subscription-key';

export function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function joinUrl(base: string, ...segments: string[]): string {
  const path = segments
    .map((s) => s.replace(/^\/+|\/+$/g, ''))
    .filter((s) => s !== '')
    .join('/');
  return `${base.replace(/\/+$/, '')}/${path}`;
}

/** A bearer token that looks like an Entra token but was signed by nobody. */
export function forgedToken(): string {
  const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const header = b64({ alg: 'RS256', typ: 'JWT', kid: 'smoke-test-unknown-kid' });
  const payload = b64({ aud: 'api://smoke-test', iss: 'https://smoke.test/', oid: 'nobody' });
  return `${header}.${payload}.${randomBytes(256).toString('base64url')}`;
}

export function seconds(ms: number): string {
  return `${Math.round(ms / 1000)} s`;
}

/** Removes the key and anything shaped like a JWT from text shown to the user. */
export function redact(text: string, key: string, length = 160): string {
  let out = text.replace(/eyJ[\w-]*\.[\w-]+\.[\w-]*/g, '[token]');
  if (key !== '') {
    out = out.split(key).join('[subscription key]');
  }
  return out.replace(/\s+/g, ' ').trim().slice(0, length);
}

/** The function code answers with `application/problem+json` and a reason `code`; the platform does not. */
export function answeredByFunctionCode(exchange: Exchange): boolean {
  if (!(exchange.headers.get('content-type') ?? '').includes('application/problem+json')) {
    return false;
  }
  try {
    const body = JSON.parse(exchange.body) as { code?: unknown };
    return typeof body.code === 'string';
  } catch {
    return false;
  }
}
