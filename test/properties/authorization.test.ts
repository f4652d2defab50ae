/**
 * Properties of the function app's Authorization handling, through its public exports
 * (createAuthentication) and the library's own HttpRequest: whatever the
 * header holds, the answer is never 2xx, never 5xx (the keys are available here, so not even 503),
 * and nothing throws.
 *
 * fast-check runs RUNS cases per property from a fixed seed (FC_SEED overrides it to explore).
 */
import { HttpRequest, InvocationContext } from '@azure/functions';
import { createSign } from 'node:crypto';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAuthentication } from '../../functions/auth/middleware';
import {
  API_CLIENT_ID,
  APIM_CLIENT_ID,
  APIM_OID,
  ISSUER_V1,
  ISSUER_V2,
  NOW_SECONDS,
  ROLE,
  StaticKeys,
  TENANT,
  TestKey,
  createTestKey,
  v2Claims,
} from '../support/tokens';

const RUNS = 300;
const SEED = Number(process.env.FC_SEED ?? 20261201);
const settings = { seed: SEED, numRuns: RUNS };

let key: TestKey;
let handler: ReturnType<ReturnType<typeof createAuthentication>['protect']>;

beforeAll(() => {
  key = createTestKey();
  const authentication = createAuthentication({
    env: {
      AUTH_TENANT_ID: TENANT,
      AUTH_AUDIENCES: `${API_CLIENT_ID},api://${API_CLIENT_ID}`,
      AUTH_ALLOWED_CALLER_OBJECT_IDS: APIM_OID,
      AUTH_ALLOWED_CLIENT_IDS: APIM_CLIENT_ID,
      AUTH_REQUIRED_ROLES: ROLE,
      AUTH_ISSUERS: `${ISSUER_V1},${ISSUER_V2}`,
      AUTH_JWKS_URI: `https://login.microsoftonline.com/${TENANT}/discovery/v2.0/keys`,
    },
    keys: new StaticKeys([key]),
    now: () => NOW_SECONDS * 1000,
  });
  handler = authentication.protect(() => Promise.resolve({ status: 200, body: 'reached' }));
});

const b64url = (text: string | Buffer) => Buffer.from(text).toString('base64url');

/** Signs the exact header and payload text given (duplicate keys and all) with the test key. */
function signRaw(headerText: string, payloadText: string): string {
  const input = `${b64url(headerText)}.${b64url(payloadText)}`;
  const signature = createSign('RSA-SHA256').update(input).sign(key.privateKey);
  return `${input}.${signature.toString('base64url')}`;
}

/** The status the app answers with, for an Authorization header value. */
async function statusFor(authorization: string): Promise<number> {
  let request: HttpRequest;
  try {
    request = new HttpRequest({
      method: 'GET',
      url: 'http://localhost/api/hello',
      headers: { authorization },
    });
  } catch {
    // A value no HTTP request can carry (Headers refuses it): nothing reaches the app.
    return 400;
  }
  const context = new InvocationContext({
    invocationId: 'property',
    functionName: 'hello',
    logHandler: () => undefined,
  });
  const response = await handler(request, context);
  return response.status ?? 200;
}

function refused(status: number): void {
  expect(status, `status ${status}`).toBeGreaterThanOrEqual(400);
  expect(status, `status ${status}`).toBeLessThan(500);
}

const anyText = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 300 }),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
);

/** A token segment: random base64url, base64url of random text or JSON, or no base64url at all. */
const segment = fc.oneof(
  fc.uint8Array({ maxLength: 400 }).map((bytes) => b64url(Buffer.from(bytes))),
  anyText.map(b64url),
  fc.jsonValue().map((value) => b64url(JSON.stringify(value) ?? 'null')),
  anyText,
  fc.constantFrom('', '=', '==', 'e30', 'bnVsbA', 'W10', '%00', '..'),
);

describe('Authorization header properties', () => {
  it('the raw header: random bytes, unicode, any scheme, never 2xx or 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          anyText,
          anyText.map((text) => `Bearer ${text}`),
          fc
            .tuple(fc.constantFrom('bearer', 'BEARER', 'Basic', 'Bearer\t', 'Bearer  '), anyText)
            .map(([scheme, text]) => `${scheme} ${text}`),
        ),
        async (authorization) => refused(await statusFor(authorization)),
      ),
      settings,
    );
  });

  it('huge values, up to 1 MiB, never 2xx or 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 1024 * 1024 }),
        fc.constantFrom('A', '.', 'e', '%', '\u00e9'),
        async (length, unit) => refused(await statusFor(`Bearer ${unit.repeat(length)}`)),
      ),
      { ...settings, numRuns: 40 },
    );
  });

  it('each segment random, with 1 to 5 segments, never 2xx or 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(segment, { minLength: 1, maxLength: 5 }), async (segments) =>
        refused(await statusFor(`Bearer ${segments.join('.')}`)),
      ),
      settings,
    );
  });

  it('a valid signature over a random header, never 2xx or 5xx', async () => {
    const header = fc.oneof(
      fc.jsonValue().map((value) => JSON.stringify(value) ?? 'null'),
      // alg and kid made hostile one at a time, the rest right.
      fc
        .record({ alg: fc.jsonValue(), kid: fc.oneof(fc.constant(key.kid), fc.jsonValue()) })
        .map((fields) => JSON.stringify({ typ: 'JWT', ...fields })),
      // Duplicate keys: the last one (what JSON.parse keeps) is the hostile one.
      fc
        .jsonValue()
        .map(
          (hostile) =>
            `{"alg":"RS256","kid":${JSON.stringify(key.kid)},"alg":${JSON.stringify(hostile) ?? 'null'}}`,
        ),
      anyText,
    );
    await fc.assert(
      fc.asyncProperty(header, async (headerText) => {
        fc.pre(headerText !== JSON.stringify({ typ: 'JWT', alg: 'RS256', kid: key.kid }));
        refused(await statusFor(`Bearer ${signRaw(headerText, JSON.stringify(v2Claims()))}`));
      }),
      settings,
    );
  });

  it('a valid signature over claims with one made hostile (nested, duplicate, numeric strings for times), never 2xx or 5xx', async () => {
    const valid = v2Claims();
    const claim = fc.constantFrom('aud', 'iss', 'exp', 'nbf', 'tid', 'oid', 'azp', 'roles');
    const hostile = (name: string) =>
      fc.oneof(
        fc.jsonValue(),
        // Numeric strings, for times and for everything else.
        fc.integer({ min: NOW_SECONDS - 10_000, max: NOW_SECONDS + 10_000 }).map(String),
        fc.constant(String(valid[name])),
        // The right value, nested.
        fc.constantFrom({ value: valid[name] }, [[valid[name]]], [{ [name]: valid[name] }]),
        anyText,
      );
    const mutated = claim.chain((name) =>
      fc.record({
        name: fc.constant(name),
        value: hostile(name),
        duplicate: fc.boolean(),
      }),
    );
    await fc.assert(
      fc.asyncProperty(mutated, async ({ name, value, duplicate }) => {
        // Values that are right after all: a plain exp/nbf number in range, or the claim itself.
        fc.pre(JSON.stringify(value) !== JSON.stringify(valid[name]));
        fc.pre(!(name === 'nbf' && typeof value === 'number' && value <= NOW_SECONDS));
        fc.pre(!(name === 'exp' && typeof value === 'number' && value > NOW_SECONDS));
        fc.pre(!(name === 'roles' && Array.isArray(value) && value.includes(ROLE)));
        const encoded = JSON.stringify(value) ?? 'null';
        const payload = duplicate
          ? // The valid claim first, the hostile one after it: JSON.parse keeps the last.
            `${JSON.stringify(valid).slice(0, -1)},${JSON.stringify(name)}:${encoded}}`
          : JSON.stringify({ ...valid, [name]: value });
        const header = JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: key.kid });
        refused(await statusFor(`Bearer ${signRaw(header, payload)}`));
      }),
      settings,
    );
  });

  it('the unchanged token is accepted (the properties above can fail)', async () => {
    const header = JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: key.kid });
    expect(await statusFor(`Bearer ${signRaw(header, JSON.stringify(v2Claims()))}`)).toBe(200);
  });
});
