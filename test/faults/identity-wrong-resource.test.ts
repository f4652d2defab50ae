/**
 * The identity stand-in refuses the resource the gateway asks for (a wrong api-app-client-id named
 * value, AADSTS500011 as in Entra ID): generic 500, nothing forwarded, the cause in the log line.
 * Then the stand-in goes away altogether: still a generic 500 and nothing forwarded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GENERIC_ERROR,
  GatewayOverIdentity,
  callThrough,
  startGatewayOverIdentity,
} from './identity-support';

const WRONG_CLIENT_ID = '00000000-0000-4000-8000-000000000000';

let stack: GatewayOverIdentity;
beforeAll(async () => {
  stack = await startGatewayOverIdentity({
    namedValues: { 'api-app-client-id': WRONG_CLIENT_ID },
  });
});
afterAll(async () => {
  await stack?.close();
});

describe('the identity stand-in refuses the gateway: wrong resource, then gone', () => {
  it('answers 500 with the generic body, forwards nothing, and names AADSTS500011', async () => {
    stack.logs.length = 0;
    const reply = await callThrough(stack.gateway);
    expect(reply.status).toBe(500);
    expect(JSON.parse(reply.body)).toEqual(GENERIC_ERROR);
    expect(stack.backend.requests).toEqual([]);
    expect(stack.logs).toHaveLength(1);
    // AADSTS500011: the resource principal was not found in the tenant.
    expect(stack.logs[0]).toMatch(
      new RegExp(
        `^GET /api/whoami 500 authentication-managed-identity TokenAcquisitionFailed, no token for resource ${WRONG_CLIENT_ID} \\(AADSTS500011[:)]`,
      ),
    );
  });

  it('answers 500 and forwards nothing when the stand-in is not there at all', async () => {
    await stack.identity.close();
    const replies = await Promise.all(Array.from({ length: 10 }, () => callThrough(stack.gateway)));
    for (const reply of replies) {
      expect(reply.status).toBe(500);
      expect(JSON.parse(reply.body)).toEqual(GENERIC_ERROR);
    }
    expect(stack.backend.requests).toEqual([]);
  });
});
