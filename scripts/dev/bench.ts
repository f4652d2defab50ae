/**
 * `npm run bench`: token validation throughput against raw RSA verification of the same token with
 * the same key, measured in the same run. The ratio is what matters; absolute rates vary by machine.
 *
 *   raw crypto.verify      the limit: one RSA-SHA256 verification with a parsed KeyObject
 *   jwt.verify             jsonwebtoken alone with a cached KeyObject (no claim checks of ours)
 *   this project           TokenValidator.validate(): header checks, cached KeyObject, jwt.verify, claims
 *   common way             jwks-rsa getSigningKey() + PEM string into jwt.verify, per request
 */
import { createVerify, generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import jwt from 'jsonwebtoken';
import { JwksClient } from 'jwks-rsa';
import { loadAuthConfig } from '../../functions/auth/config';
import { SigningKeyStore } from '../../functions/auth/signing-keys';
import { TokenValidator } from '../../functions/auth/token-validator';

const REQUIRED_RATIO = 0.6;
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 1500);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const AUDIENCE = '6e8f3a1c-0d2b-4c5e-8f7a-9b0c1d2e3f40';
const CALLER = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';

type Operation = () => unknown;

async function rate(operation: Operation, ms: number): Promise<number> {
  let count = 0;
  const end = performance.now() + ms;
  let start = performance.now();
  // Warm-up of a tenth of the round, not counted.
  while (performance.now() < start + ms / 10) await operation();
  start = performance.now();
  while (performance.now() < end) {
    for (let i = 0; i < 50; i += 1) await operation();
    count += 50;
  }
  return count / ((performance.now() - start) / 1000);
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

async function main(): Promise<void> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = 'bench-key';
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid, use: 'sig' };
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const jwksUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/keys`;

  const issuer = `https://login.microsoftonline.com/${TENANT}/v2.0`;
  const token = jwt.sign(
    {
      aud: AUDIENCE,
      iss: issuer,
      azp: CALLER,
      oid: CALLER,
      sub: CALLER,
      tid: TENANT,
      roles: ['Api.Invoke'],
      ver: '2.0',
    },
    privateKey,
    { algorithm: 'RS256', keyid: kid, expiresIn: '1h' },
  );
  const [head, body, signature] = token.split('.') as [string, string, string];
  const signed = Buffer.from(`${head}.${body}`);
  const signatureBytes = Buffer.from(signature, 'base64url');

  const config = loadAuthConfig({
    AUTH_TENANT_ID: TENANT,
    AUTH_AUDIENCES: AUDIENCE,
    AUTH_ALLOWED_CALLER_OBJECT_IDS: CALLER,
    AUTH_REQUIRED_ROLES: 'Api.Invoke',
    AUTH_JWKS_URI: jwksUri,
  });
  const validator = new TokenValidator(config, new SigningKeyStore({ jwksUri }));
  const header = `Bearer ${token}`;
  await validator.validate(header);

  const jwksClient = new JwksClient({ jwksUri, cache: true, rateLimit: true });
  const options: jwt.VerifyOptions = { algorithms: ['RS256'], issuer, audience: AUDIENCE };

  const raw: Operation = () => {
    const ok = createVerify('RSA-SHA256').update(signed).verify(publicKey, signatureBytes);
    if (!ok) throw new Error('raw verify failed');
  };
  const project: Operation = () => validator.validate(header);
  const library: Operation = () => jwt.verify(token, publicKey, options);
  const common: Operation = async () => {
    const signingKey = await jwksClient.getSigningKey(kid);
    jwt.verify(token, signingKey.getPublicKey(), options);
  };

  const results = {
    raw: [] as number[],
    library: [] as number[],
    project: [] as number[],
    common: [] as number[],
  };
  for (let round = 0; round < ROUNDS; round += 1) {
    results.raw.push(await rate(raw, ROUND_MS));
    results.library.push(await rate(library, ROUND_MS));
    results.project.push(await rate(project, ROUND_MS));
    results.common.push(await rate(common, ROUND_MS));
  }
  server.close();

  const rawRate = median(results.raw);
  const libraryRate = median(results.library);
  const projectRate = median(results.project);
  const commonRate = median(results.common);
  const format = (n: number) => Math.round(n).toLocaleString('en-US').padStart(9);
  console.log(`Token validation, RSA-2048, one core, median of ${ROUNDS} rounds of ${ROUND_MS} ms`);
  console.log(`  raw crypto.verify (baseline)   ${format(rawRate)} ops/s   1.00`);
  console.log(
    `  jwt.verify, cached KeyObject   ${format(libraryRate)} ops/s   ${(libraryRate / rawRate).toFixed(2)}`,
  );
  console.log(
    `  this project                   ${format(projectRate)} ops/s   ${(projectRate / rawRate).toFixed(2)}`,
  );
  console.log(
    `  jwks-rsa PEM per call          ${format(commonRate)} ops/s   ${(commonRate / rawRate).toFixed(2)}`,
  );
  const ratio = projectRate / rawRate;
  if (ratio < REQUIRED_RATIO) {
    console.error(`FAIL: ratio ${ratio.toFixed(2)} is below the required ${REQUIRED_RATIO}.`);
    process.exitCode = 1;
  } else {
    console.log(`PASS: ratio ${ratio.toFixed(2)} >= ${REQUIRED_RATIO}`);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
