/**
 * The built-in host's request line for a 503 of the auth layer says why the signing keys were
 * unavailable, from the app's refusal note (functions/auth/refusal-note.ts), and the note itself is
 * not written a second time. Its own file: the app reads AUTH_JWKS_URI once, as it loads.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FunctionHost, startFunctionHost } from '../../../scripts/local/host/server';
import { JwksServer, startJwksServer } from '../../support/jwks-server';
import { ROOT } from '../../support/node-process';
import { createTestKey, sign, v2AppSettings, v2Claims } from '../../support/tokens';

const lines: string[] = [];
let host: FunctionHost;
let jwks: JwksServer;

beforeAll(async () => {
  jwks = await startJwksServer({ kind: 'status', status: 503 });
  Object.assign(process.env, v2AppSettings(jwks.url));
  host = await startFunctionHost({ projectRoot: ROOT, log: (line) => lines.push(line) });
});
afterAll(async () => {
  await host?.close();
  await jwks?.close();
});

describe('the built-in host logs why the signing keys were unavailable', () => {
  it('in the one line of the request', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = sign(
      v2Claims({ iat: now - 60, nbf: now - 60, exp: now + 3600 }),
      createTestKey(),
    );
    const response = await fetch(`${host.url}/api/hello`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(503);
    expect(await response.text()).not.toContain('HTTP error');
    expect(lines).toEqual([
      expect.stringMatching(
        /^GET \/api\/hello 503 signing_keys_unavailable \d+ms hello [0-9a-f-]{36} \(the JWKS endpoint answered an HTTP error \(Service Unavailable\)\)$/,
      ),
    ]);
    expect(lines.join('\n')).not.toContain(token);
  });
});
