/**
 * The 503 query and the alert over what the local host writes when Entra ID's signing keys cannot
 * be fetched. Its own file: the app reads AUTH_JWKS_URI once, as it loads.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JwksServer, startJwksServer } from '../support/jwks-server';
import { createTestKey, sign, v2AppSettings, v2Claims } from '../support/tokens';
import { evaluate } from './kusto';
import { CapturedHost, query, startCapturedHost } from './local-stack';

let jwks: JwksServer;
let stack: CapturedHost;

beforeAll(async () => {
  jwks = await startJwksServer({ kind: 'status', status: 503 });
  Object.assign(process.env, v2AppSettings(jwks.url));
  stack = await startCapturedHost();
});
afterAll(async () => {
  await stack?.host.close();
  await jwks?.close();
});

describe('signing_keys_unavailable', () => {
  it('is listed with why, and fires the alert on its own', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = sign(
      v2Claims({ iat: now - 60, nbf: now - 60, exp: now + 3600 }),
      createTestKey(),
    );
    expect(await stack.call('/api/hello', { authorization: `Bearer ${token}` })).toBe(503);

    const listed = evaluate(query('signing-keys-unavailable'), stack.tables());
    expect(listed).toEqual([
      expect.objectContaining({
        Why: 'the JWKS endpoint answered an HTTP error (Service Unavailable)',
      }),
    ]);
    const request = stack.rows.find((r) => r.Type === 'AppRequests')!;
    expect(listed[0]!.OperationId).toBe(request.OperationId);
    expect(listed[0]!.InvocationId).toBe(request.Properties.InvocationId);

    expect(evaluate(query('refusal-alert'), stack.tables())).toEqual([
      { Refusals: 1, SigningKeysUnavailable: 1 },
    ]);
    expect(evaluate(query('refusals-by-reason'), stack.tables())).toEqual([
      expect.objectContaining({ Code: 'signing_keys_unavailable', Status: 503, Refusals: 1 }),
    ]);
    expect(JSON.stringify(stack.rows)).not.toContain(token);
  });
});
