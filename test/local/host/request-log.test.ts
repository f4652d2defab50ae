/**
 * The built-in host's log with the real built app: one line per request (method, path, status,
 * reason code, duration, function, invocation id), refusals included, and never a token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FunctionHost, startFunctionHost } from '../../../scripts/local/host/server';
import { ROOT } from '../../support/node-process';
import { JwksServer, startJwksServer } from '../../support/jwks-server';
import {
  createTestKey,
  OTHER_OID,
  sign,
  TestKey,
  v2AppSettings,
  v2Claims,
} from '../../support/tokens';

const lines: string[] = [];
let host: FunctionHost;
let jwks: JwksServer;
let key: TestKey;

beforeAll(async () => {
  key = createTestKey();
  jwks = await startJwksServer({ kind: 'keys', keys: [key.jwk] });
  Object.assign(process.env, v2AppSettings(jwks.url));
  host = await startFunctionHost({ projectRoot: ROOT, log: (line) => lines.push(line) });
});
afterAll(async () => {
  await host?.close();
  await jwks?.close();
});

function token(overrides: Record<string, unknown> = {}): string {
  const now = Math.floor(Date.now() / 1000);
  return sign(v2Claims({ iat: now - 60, nbf: now - 60, exp: now + 3600, ...overrides }), key);
}

async function logFor(path: string, authorization?: string): Promise<string[]> {
  lines.length = 0;
  const response = await fetch(`${host.url}${path}`, {
    headers: authorization ? { authorization } : {},
  });
  await response.arrayBuffer();
  return [...lines];
}

const ID = '[0-9a-f-]{36}';

describe('the built-in host logs one line per request', () => {
  it.each([
    ['a valid token', () => `Bearer ${token()}`, '200 -'],
    ['no token', () => undefined, '401 missing_token'],
    ['a garbage token', () => 'Bearer not.a.token', '401 malformed_token'],
    [
      'a caller not allowed',
      () => `Bearer ${token({ oid: OTHER_OID, sub: OTHER_OID })}`,
      '403 caller_not_allowed',
      // From the refusal record: the version and caller of a token whose signature verified.
      ` token=2.0 caller=${OTHER_OID}`,
    ],
  ])('%s', async (_name, authorization, outcome, facts = '') => {
    const header = authorization();
    const logged = await logFor('/api/hello?name=x', header);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatch(new RegExp(`^GET /api/hello ${outcome} \\d+ms hello ${ID}${facts}$`));
    if (header) expect(logged.join('\n')).not.toContain(header.slice(7));
  });

  it("names the host's own reasons", async () => {
    expect(await logFor('/api/nowhere')).toEqual([
      expect.stringMatching(/^GET \/api\/nowhere 404 no_function \d+ms - -$/),
    ]);
  });
});
