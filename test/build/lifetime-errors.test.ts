/**
 * The built app maps jsonwebtoken's lifetime errors to their reason codes. token-validator.ts tells
 * them apart with `instanceof` on the classes functions/auth/libraries.ts imports; in the bundle
 * those must be the classes jsonwebtoken's `verify` throws, or an expired token would be refused
 * as a bad signature. Served by the built-in host from dist/, as `npm run serve` does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FunctionHost, startFunctionHost } from '../../scripts/local/host/server';
import { JwksServer, startJwksServer } from '../support/jwks-server';
import { ROOT } from '../support/node-process';
import { createTestKey, sign, TestKey, v2AppSettings, v2Claims } from '../support/tokens';

let jwks: JwksServer;
let key: TestKey;
let host: FunctionHost;

beforeAll(async () => {
  key = createTestKey();
  jwks = await startJwksServer({ kind: 'keys', keys: [key.jwk] });
  Object.assign(process.env, v2AppSettings(jwks.url));
  host = await startFunctionHost({ projectRoot: ROOT, log: () => undefined });
});
afterAll(async () => {
  await host?.close();
  await jwks?.close();
});

async function refusal(
  claims: Record<string, unknown>,
): Promise<{ status: number; code: unknown }> {
  const response = await fetch(`${host.url}/api/hello`, {
    headers: { authorization: `Bearer ${sign(v2Claims(claims), key)}` },
  });
  const body = (await response.json()) as { code?: unknown };
  return { status: response.status, code: body.code };
}

describe("the built app's refusals for a token's lifetime", () => {
  const now = () => Math.floor(Date.now() / 1000);

  it('answers an expired token 401 token_expired', async () => {
    expect(await refusal({ iat: now() - 7200, nbf: now() - 7200, exp: now() - 3600 })).toEqual({
      status: 401,
      code: 'token_expired',
    });
  });

  it('answers a token not valid yet 401 token_not_yet_valid', async () => {
    expect(await refusal({ iat: now(), nbf: now() + 3600, exp: now() + 7200 })).toEqual({
      status: 401,
      code: 'token_not_yet_valid',
    });
  });

  it('answers a token within its lifetime 200', async () => {
    const response = await fetch(`${host.url}/api/hello`, {
      headers: {
        authorization: `Bearer ${sign(v2Claims({ iat: now() - 60, nbf: now() - 60, exp: now() + 3600 }), key)}`,
      },
    });
    expect(response.status).toBe(200);
  });
});
