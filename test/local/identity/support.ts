import crypto from 'node:crypto';
import jwt from 'jsonwebtoken';

/** 2026-01-15T12:00:00Z: tests that look at time claims run on this frozen clock. */
export const FROZEN_MS = Date.UTC(2026, 0, 15, 12, 0, 0);
export const FROZEN_S = FROZEN_MS / 1000;

export interface Jwk {
  kty: string;
  use: string;
  kid: string;
  x5t: string;
  n: string;
  e: string;
  alg: string;
}

/** A parsed JSON body, loosely typed for assertions. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- assertions on JSON bodies
export type JsonBody = any;

export async function fetchJson(
  url: string,
  init?: RequestInit,
): Promise<{ status: number; headers: Headers; body: JsonBody }> {
  const response = await fetch(url, init);
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text ? JSON.parse(text) : undefined,
  };
}

export async function fetchJwks(url: string): Promise<Jwk[]> {
  const { status, body } = await fetchJson(url);
  if (status !== 200) throw new Error(`JWKS answered ${status}`);
  return body.keys as Jwk[];
}

/** Verifies `token` the way the function app does: key by `kid` from the served JWKS, RS256, iss, aud pinned. */
export async function verifyAgainstJwks(
  token: string,
  jwksUrl: string,
  expected: { issuer: string; audience: string; clockTimestamp?: number },
): Promise<{ header: jwt.JwtHeader; payload: jwt.JwtPayload }> {
  const decoded = jwt.decode(token, { complete: true });
  if (!decoded || typeof decoded.payload === 'string') throw new Error('not a JWT');
  const keys = await fetchJwks(jwksUrl);
  const jwk = keys.find((key) => key.kid === decoded.header.kid);
  if (!jwk) throw new Error(`kid ${decoded.header.kid} is not published`);
  const key = crypto.createPublicKey({ key: { kty: jwk.kty, n: jwk.n, e: jwk.e }, format: 'jwk' });
  const payload = jwt.verify(token, key, {
    algorithms: ['RS256'],
    issuer: expected.issuer,
    audience: expected.audience,
    clockTimestamp: expected.clockTimestamp,
  }) as jwt.JwtPayload;
  return { header: decoded.header, payload };
}

export function tokenUrl(base: string, identity: string, query: Record<string, string>): string {
  return `${base}/msi/${identity}/token?${new URLSearchParams(query).toString()}`;
}
