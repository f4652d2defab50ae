/**
 * The first validated response on a cold built-in host: the time from starting a process that
 * hosts the app (scripts/local/host, as `npm run serve` does) to the end of its first 200 on
 * `GET /api/hello` with a valid token. It covers what a new instance pays before it can answer:
 * starting Node, loading the app, fetching the signing keys, the first validation.
 *
 *   node dist/scripts/dev/first-response.js [baseline root]
 *
 * With a baseline (another checkout of this project, built), the two take turns, each served by
 * this checkout's host so that only the app differs, and the medians and their difference are
 * printed; the target is a difference of at most 30 ms. Each run is a new process; the JWKS
 * endpoint is a loopback server of this process, which also signs the token. Wall time is the
 * measure; the host's CPU time until it is told to stop (user and system, all threads) is printed
 * beside it, since on a busy machine wall time mostly measures the wait for a CPU.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import jwt from 'jsonwebtoken';
import {
  APIM_IDENTITY,
  APP_ROLE,
  LOCAL_API_CLIENT_ID,
  LOCAL_TENANT_ID,
  identityUrls,
  localFunctionAppSettings,
} from '../local/shared/environment';
import { findProjectRoot } from '../local/shared/paths';
import { startLoopbackJwks } from './loopback-jwks';
import { median } from './median';

const TARGET_MS = 30;
const RUNS = Number(process.env.FIRST_RESPONSE_RUNS ?? 15);
const KID = 'first-response';

const ms = (value: number) => `${value.toFixed(1).padStart(7)} ms`;

/** A loopback identity endpoint: its JWKS, and a valid v2 token for the local settings. */
async function identity(): Promise<{ base: string; token: string; close: () => void }> {
  const { privateKey, base, close } = await startLoopbackJwks(KID);
  const token = jwt.sign(
    {
      aud: LOCAL_API_CLIENT_ID,
      iss: identityUrls(base).issuerV2,
      azp: APIM_IDENTITY.clientId,
      oid: APIM_IDENTITY.objectId,
      sub: APIM_IDENTITY.objectId,
      tid: LOCAL_TENANT_ID,
      roles: [APP_ROLE],
      ver: '2.0',
    },
    privateKey,
    { algorithm: 'RS256', keyid: KID, expiresIn: '1h' },
  );
  return { base, token, close };
}

/** One GET; resolves with its status once the body has ended. */
function get(url: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { headers: { authorization: `Bearer ${token}` } }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    request.on('error', reject);
  });
}

interface Timing {
  wall: number;
  cpu: number;
}

/** Milliseconds from spawning a host of `root` to the end of its first 200, and its CPU time. */
async function firstResponse(root: string, base: string, token: string): Promise<Timing> {
  const server = JSON.stringify(path.join(__dirname, '..', 'local', 'host', 'server.js'));
  const program = [
    `process.on('SIGTERM', () => { const u = process.cpuUsage(); process.stdout.write('cpu ' + (u.user + u.system) + '\\n'); process.exit(0); });`,
    `require(${server}).startFunctionHost({ projectRoot: ${JSON.stringify(root)}, log: () => {} }).then((h) => process.stdout.write(h.url + '\\n'));`,
  ].join('');
  const start = performance.now();
  const child = spawn(process.execPath, ['-e', program], {
    env: { PATH: process.env.PATH, ...localFunctionAppSettings(base) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const line = (prefix: string) =>
    new Promise<string>((resolve, reject) => {
      const look = () => {
        const found = out.split('\n').find((l) => l.startsWith(prefix) && out.includes(`${l}\n`));
        if (found) resolve(found);
      };
      child.stdout.on('data', look);
      child.on('exit', (code) => reject(new Error(`the host of ${root} ended (exit ${code})`)));
      look();
    });
  try {
    const url = await line('http://');
    const status = await get(`${url}/api/hello`, token);
    const wall = performance.now() - start;
    if (status !== 200) throw new Error(`the host of ${root} answered ${status}, not 200`);
    child.kill('SIGTERM');
    const cpu = Number((await line('cpu ')).slice(4)) / 1000;
    return { wall, cpu };
  } finally {
    child.kill('SIGKILL');
  }
}

export async function measureFirstResponse(root: string, baseline?: string): Promise<boolean> {
  for (const dir of [root, baseline]) {
    if (dir && !fs.existsSync(path.join(dir, 'dist', 'functions'))) {
      throw new Error(`${dir} has no dist/functions: build it first (npm run build).`);
    }
  }
  const { base, token, close } = await identity();
  try {
    const roots = baseline ? [root, baseline] : [root];
    const times = roots.map(() => [] as Timing[]);
    // Warms the file cache for each checkout, so that no first run reads from disk.
    for (const dir of roots) await firstResponse(dir, base, token);
    for (let run = 0; run < RUNS; run += 1) {
      const order = run % 2 === 0 ? [...roots.keys()] : [...roots.keys()].reverse();
      for (const index of order)
        times[index]!.push(await firstResponse(roots[index]!, base, token));
    }
    const [after = [], before = []] = times;
    const show = (label: string, runs: Timing[]) =>
      console.log(
        `  ${label.padEnd(14)} wall ${ms(median(runs.map((t) => t.wall)))}   CPU ${ms(median(runs.map((t) => t.cpu)))}`,
      );
    console.log(`First validated response on a cold built-in host, median of ${RUNS} runs:`);
    show('this checkout', after);
    if (!baseline) return true;
    show('baseline', before);
    const wall = median(after.map((t) => t.wall)) - median(before.map((t) => t.wall));
    const cpu = median(after.map((t) => t.cpu)) - median(before.map((t) => t.cpu));
    console.log(`  (baseline: ${baseline})`);
    console.log(
      `first-response over baseline: ${wall.toFixed(1)} ms wall, ${cpu.toFixed(1)} ms CPU`,
    );
    const difference = wall;
    if (difference > TARGET_MS) {
      console.log(`FAIL: the first validated response is more than ${TARGET_MS} ms slower.`);
      return false;
    }
    return true;
  } finally {
    close();
  }
}

if (require.main === module) {
  const baseline = process.argv[2] ? path.resolve(process.argv[2]) : undefined;
  measureFirstResponse(findProjectRoot(__dirname), baseline)
    .then((ok) => {
      if (!ok) process.exitCode = 1;
    })
    .catch((error: unknown) => {
      console.error(error instanceof Error ? error.message : String(error));
      process.exitCode = 1;
    });
}
