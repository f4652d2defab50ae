/**
 * `npm run bench`: first the cold load of the app (cold-start.ts), then token validation
 * throughput, side by side in one run on one core (the process pins itself with taskset where there is one, so that no line gains from
 * a second core, as jose's WebCrypto verification otherwise would). Ratios between lines of the
 * same run are what count; absolute rates vary by machine. The lines take turns in short rounds
 * (in alternating order), and each ratio is the median of its per-round ratios, so that a change
 * in machine load between rounds does not favour one line.
 *
 *   raw crypto.verify      the floor of any validator: one RSA-SHA256 verification, parsed key
 *   jwt.verify             jsonwebtoken alone with a cached KeyObject (no claim checks of ours)
 *   jose jwtVerify         what a Node user would pick instead, with an imported key
 *   first sight            this project, 1000 distinct tokens, a different one on each call
 *   secured route          GET of a route registered with secureHttp on the built-in host
 *                          (scripts/local/host), one keep-alive connection, a valid token
 *   jwt.verify twin        the same handler registered without secureHttp, which verifies the
 *                          request's token with jwt.verify and a cached KeyObject first: the
 *                          least that any route verifying every request with jsonwebtoken does
 *   unsecured twin         the same handler on the same host, registered without secureHttp,
 *                          sent the same request (token header included)
 *
 * Targets: first sight at least 0.9 of jwt.verify (the app's own checks add at most 10 %), and the
 * secured route at least 0.8 of its unsecured twin. The jwt.verify twin's ratio to the unsecured
 * one is printed beside it, for what the library's verification alone costs a request on this
 * host. The last two lines are the two target ratios; the exit code is 1 when a target is missed.
 */
import { spawnSync } from 'node:child_process';
import { verify } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import jwt from 'jsonwebtoken';
import { loadAuthConfig } from '../../functions/auth/config';
import { SigningKeyStore } from '../../functions/auth/signing-keys';
import { TokenValidator } from '../../functions/auth/token-validator';
import { startFunctionHost } from '../local/host/server';
import { findProjectRoot } from '../local/shared/paths';
import { measureColdStart } from './cold-start';
import { startLoopbackJwks } from './loopback-jwks';
import { median } from './median';

const FIRST_SIGHT_TARGET = 0.9;
const SECURED_TARGET = 0.8;
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 200);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 40);
const DISTINCT_TOKENS = 1000;

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const AUDIENCE = '6e8f3a1c-0d2b-4c5e-8f7a-9b0c1d2e3f40';
const CALLER = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const KID = 'bench-key';

type Operation = (i: number) => unknown;

/** Operations per second over `ms`, after a warm-up of a tenth of that. */
async function rate(operation: Operation, ms: number): Promise<number> {
  let i = 0;
  const warm = performance.now() + ms / 10;
  while (performance.now() < warm) await operation(i++);
  let count = 0;
  const start = performance.now();
  const end = start + ms;
  while (performance.now() < end) {
    for (let n = 0; n < 50; n += 1) await operation(i++);
    count += 50;
  }
  return count / ((performance.now() - start) / 1000);
}

/**
 * Runs the throughput part in a child pinned to one CPU when taskset exists; returns its exit
 * code, or undefined when it could not be pinned (the caller then runs it in this process).
 */
function pinnedRun(): number | undefined {
  if (process.platform !== 'linux') return undefined;
  const probe = spawnSync('taskset', ['-c', '0', 'true']);
  if (probe.error || probe.status !== 0) return undefined;
  const run = spawnSync('taskset', ['-c', '0', process.execPath, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, BENCH_PINNED: '1' },
  });
  return run.status ?? 1;
}

function claims(i: number, issuer: string): jwt.JwtPayload {
  return {
    aud: AUDIENCE,
    iss: issuer,
    azp: CALLER,
    azpacr: '2',
    oid: CALLER,
    sub: CALLER,
    tid: TENANT,
    roles: ['Api.Invoke'],
    uti: `bench-${i}`,
    ver: '2.0',
  };
}

/**
 * A project of two functions with the same handler, one registered with the app's secureHttp
 * (from dist/, as the host loads the app), one with app.http: served by the built-in host.
 */
async function twins(
  root: string,
  verify: { publicKey: string; options: jwt.VerifyOptions },
): Promise<{ url: string; close: () => Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-twins-'));
  const handler = `() => ({ status: 200, jsonBody: { ok: true } })`;
  const register = JSON.stringify(path.join(root, 'dist', 'functions', 'auth', 'register.js'));
  const functions = JSON.stringify(require.resolve('@azure/functions', { paths: [root] }));
  fs.mkdirSync(path.join(dir, 'twins'));
  fs.writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({ name: 'twins', main: 'twins/*.js' }),
  );
  fs.writeFileSync(
    path.join(dir, 'twins', 'secured.js'),
    `require(${register}).secureHttp('secured', { methods: ['GET'], route: 'secured', handler: ${handler} });\n`,
  );
  const jsonwebtoken = JSON.stringify(require.resolve('jsonwebtoken', { paths: [root] }));
  fs.writeFileSync(
    path.join(dir, 'twins', 'verified.js'),
    [
      `const jwt = require(${jsonwebtoken});`,
      `const key = require('node:crypto').createPublicKey(${JSON.stringify(verify.publicKey)});`,
      `const options = ${JSON.stringify(verify.options)};`,
      `const handler = ${handler};`,
      `require(${functions}).app.http('verified', { methods: ['GET'], authLevel: 'anonymous', route: 'verified', handler: (request) => { jwt.verify(request.headers.get('authorization').slice(7), key, options); return handler(); } });`,
      '',
    ].join('\n'),
  );
  fs.writeFileSync(
    path.join(dir, 'twins', 'unsecured.js'),
    `require(${functions}).app.http('unsecured', { methods: ['GET'], authLevel: 'anonymous', route: 'unsecured', handler: ${handler} });\n`,
  );
  const host = await startFunctionHost({ projectRoot: dir, log: () => undefined });
  return {
    url: host.url,
    close: async () => {
      await host.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One GET on a keep-alive connection; rejects unless the answer is 200. */
function get(agent: http.Agent, url: string, authorization: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent, headers: { authorization } }, (response) => {
      response.resume();
      response.on('end', () => {
        if (response.statusCode === 200) resolve();
        else reject(new Error(`${url} answered ${response.statusCode ?? 0}`));
      });
    });
    request.on('error', reject);
  });
}

async function throughput(): Promise<void> {
  const jwks = await startLoopbackJwks(KID);
  const { privateKey, publicKey, jwk } = jwks;
  const jwksUri = `${jwks.base}/keys`;

  const issuer = `https://login.microsoftonline.com/${TENANT}/v2.0`;
  const tokens = Array.from({ length: DISTINCT_TOKENS }, (_, i) =>
    jwt.sign(claims(i, issuer), privateKey, { algorithm: 'RS256', keyid: KID, expiresIn: '1h' }),
  );
  const headers = tokens.map((token) => `Bearer ${token}`);
  const signed = tokens.map((token) => {
    const [head, body, signature] = token.split('.') as [string, string, string];
    return {
      input: Buffer.from(`${head}.${body}`),
      signature: Buffer.from(signature, 'base64url'),
    };
  });

  const settings = {
    AUTH_TENANT_ID: TENANT,
    AUTH_AUDIENCES: AUDIENCE,
    AUTH_ALLOWED_CALLER_OBJECT_IDS: CALLER,
    AUTH_REQUIRED_ROLES: 'Api.Invoke',
    AUTH_JWKS_URI: jwksUri,
  };
  const config = loadAuthConfig(settings);
  const store = new SigningKeyStore({ jwksUri });
  const firstSight = new TokenValidator(config, store);
  await firstSight.validate(headers[0]);

  const options: jwt.VerifyOptions = { algorithms: ['RS256'], issuer, audience: AUDIENCE };
  // The app reads its settings from process.env when its first trigger is registered.
  Object.assign(process.env, settings);
  const host = await twins(findProjectRoot(__dirname), {
    publicKey: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    options,
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  await get(agent, `${host.url}/api/secured`, headers[0]!);
  await get(agent, `${host.url}/api/verified`, headers[0]!);

  const { jwtVerify, importJWK } = await import('jose');
  const joseKey = await importJWK(jwk, 'RS256');
  const at = (i: number) => i % DISTINCT_TOKENS;

  const lines: [string, Operation][] = [
    [
      'raw crypto.verify (baseline)',
      (i) => {
        const { input, signature } = signed[at(i)]!;
        if (!verify('sha256', input, publicKey, signature)) throw new Error('raw verify failed');
      },
    ],
    ['jwt.verify, cached KeyObject', (i) => jwt.verify(tokens[at(i)]!, publicKey, options)],
    [
      'jose jwtVerify, imported key',
      (i) =>
        jwtVerify(tokens[at(i)]!, joseKey, { algorithms: ['RS256'], issuer, audience: AUDIENCE }),
    ],
    ['this project, first sight', (i) => firstSight.validate(headers[at(i)])],
    ['secured route (built-in host)', () => get(agent, `${host.url}/api/secured`, headers[0]!)],
    ['jwt.verify twin (built-in host)', () => get(agent, `${host.url}/api/verified`, headers[0]!)],
    // The same request, token header included: the twin differs from the route only by secureHttp.
    ['unsecured twin (built-in host)', () => get(agent, `${host.url}/api/unsecured`, headers[0]!)],
  ];
  const results = lines.map(() => [] as number[]);
  for (let round = 0; round < ROUNDS; round += 1) {
    const order = [...lines.keys()];
    if (round % 2 === 1) order.reverse();
    for (const index of order) results[index]!.push(await rate(lines[index]![1], ROUND_MS));
  }
  agent.destroy();
  await host.close();
  jwks.close();

  const rates = results.map(median);
  const [raw = [], library = [], , first = [], secured = [], verified = [], unsecured = []] =
    results;
  const perRound = (a: number[], b: number[]) => median(a.map((value, i) => value / (b[i] ?? 1)));
  const pinned = process.env.BENCH_PINNED === '1' ? 'one core (taskset)' : 'one thread';
  console.log(
    `Token validation, RSA-2048, ${pinned}, median of ${ROUNDS} rounds of ${ROUND_MS} ms`,
  );
  for (const [index, [name]] of lines.entries()) {
    const value = rates[index] ?? 0;
    console.log(
      `  ${name.padEnd(32)} ${Math.round(value).toLocaleString('en-US').padStart(10)} ops/s   ${perRound(results[index] ?? [], raw).toFixed(2)} of raw`,
    );
  }
  const firstRatio = perRound(first, library);
  const securedRatio = perRound(secured, unsecured);
  const missed = [
    firstRatio < FIRST_SIGHT_TARGET ? `first sight below ${FIRST_SIGHT_TARGET} of jwt.verify` : '',
    securedRatio < SECURED_TARGET ? `secured route below ${SECURED_TARGET} of unsecured` : '',
  ].filter(Boolean);
  if (missed.length > 0) {
    console.log(`FAIL: ${missed.join('; ')}`);
    process.exitCode = 1;
  }
  console.log(
    `jwt.verify twin/unsecured: ${perRound(verified, unsecured).toFixed(2)} (no target: what verifying each request with jsonwebtoken costs on this host)`,
  );
  console.log(`first-sight/jwt.verify: ${firstRatio.toFixed(2)}`);
  console.log(`secured/unsecured: ${securedRatio.toFixed(2)}`);
}

async function main(): Promise<void> {
  if (process.env.BENCH_PINNED === '1') return throughput();
  const coldOk = measureColdStart(findProjectRoot(__dirname));
  console.log('');
  const pinned = pinnedRun();
  if (pinned === undefined) await throughput();
  else if (pinned !== 0) process.exitCode = pinned;
  if (!coldOk) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
