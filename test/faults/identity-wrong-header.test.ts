/**
 * The identity stand-in refuses the gateway's managed identity request (a wrong X-IDENTITY-HEADER):
 * the client gets the generic 500 of apim/policies/api.xml's on-error, nothing reaches the backend, and the gateway's one
 * log line for the request names the cause the endpoint gave.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GENERIC_ERROR,
  GatewayOverIdentity,
  callThrough,
  startGatewayOverIdentity,
} from './identity-support';

let stack: GatewayOverIdentity;
beforeAll(async () => {
  stack = await startGatewayOverIdentity({ sentHeader: 'not-the-identity-header' });
});
afterAll(async () => {
  await stack?.close();
});

describe('the identity stand-in refuses the gateway: wrong header', () => {
  it('answers 500 with the generic body and forwards nothing, every time', async () => {
    const replies = await Promise.all(Array.from({ length: 20 }, () => callThrough(stack.gateway)));
    for (const reply of replies) {
      expect(reply.status).toBe(500);
      expect(JSON.parse(reply.body)).toEqual(GENERIC_ERROR);
    }
    expect(stack.backend.requests).toEqual([]);
  });

  it('logs one line per request that names the cause, and not the header value', async () => {
    stack.logs.length = 0;
    await callThrough(stack.gateway);
    expect(stack.logs).toHaveLength(1);
    expect(stack.logs[0]).toMatch(
      /^GET \/api\/whoami 500 authentication-managed-identity TokenAcquisitionFailed, no token for resource \S+ \(unauthorized: The X-IDENTITY-HEADER header is missing or does not match IDENTITY_HEADER\.\) \d+ms$/,
    );
    expect(stack.logs.join('\n')).not.toContain('not-the-identity-header');
  });
});
