/**
 * What loading the app costs a new instance: the first part of `npm run bench`, or on its own
 * `node dist/scripts/dev/cold-start.js [project root]` (for example to measure another checkout).
 *
 * The Functions host starts a Node worker, which provides `@azure/functions-core` and then
 * requires every file package.json `main` matches (dist/functions/*.js). Here the worker's part is
 * played by the built-in host's core API (scripts/local/host/core-api.ts), in both programs:
 *
 *   bare   node with the core API and nothing else
 *   app    the same, then the app's files loaded, with valid settings (so the auth layer is built
 *          and its first JWKS fetch is scheduled), and the process ends when loading ends
 *   + fetch  the same, but the process runs until its event loop is empty: the first JWKS fetch
 *          the app starts in the background (against a loopback port nothing listens on, so it
 *          fails at once) is counted too; shown for information
 *
 * The programs alternate many times in one run, so that all see the same machine load, and the
 * medians of the differences are printed: wall time, and CPU time (user and system, all threads,
 * as each process reports it at exit). On a quiet machine the two agree; on a busy one wall time
 * mostly measures the wait for a CPU, so the target (load at most 50 ms over bare) is checked on
 * CPU time.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { matchFiles } from '../local/host/glob';
import { localFunctionAppSettings } from '../local/shared/environment';
import { findProjectRoot } from '../local/shared/paths';
import { median } from './median';

const TARGET_MS = 50;
const PAIRS = Number(process.env.COLD_START_PAIRS ?? 30);

/** Prepended to every program: the process's own CPU time at exit, in microseconds. */
const REPORT_CPU =
  "process.on('exit',()=>{const u=process.cpuUsage();process.stdout.write(String(u.user+u.system))});";

interface Timing {
  wall: number;
  cpu: number;
}

function timeNode(code: string, env: NodeJS.ProcessEnv): Timing {
  const start = process.hrtime.bigint();
  const run = spawnSync(process.execPath, ['-e', REPORT_CPU + code], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const wall = Number(process.hrtime.bigint() - start) / 1e6;
  if (run.status !== 0) {
    throw new Error(`node -e failed: ${run.stderr.toString().slice(0, 500)}`);
  }
  return { wall, cpu: Number(run.stdout.toString()) / 1000 };
}

/** Prints the medians and returns whether the target was met. */
export function measureColdStart(root: string): boolean {
  const main = (
    JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
      main: string;
    }
  ).main;
  const files = matchFiles(root, main);
  if (files.length === 0) throw new Error(`Nothing matches "${main}" in ${root}: build first.`);
  const core = `const core=require(${JSON.stringify(path.join(__dirname, '..', 'local', 'host', 'core-api.js'))});`;
  const load = `core.collectRegistrations(()=>{${files.map((file) => `require(${JSON.stringify(file)});`).join('')}});`;
  const programs = { bare: core, app: `${core}${load}process.exit(0);`, fetch: core + load };
  const env = { PATH: process.env.PATH, ...localFunctionAppSettings('http://127.0.0.1:9') };

  const differences = { app: { wall: [] as number[], cpu: [] as number[] } };
  const withFetch = { wall: [] as number[], cpu: [] as number[] };
  timeNode(programs.fetch, env);
  for (let i = 0; i < PAIRS; i += 1) {
    const bare = timeNode(programs.bare, env);
    const app = timeNode(programs.app, env);
    const fetched = timeNode(programs.fetch, env);
    differences.app.wall.push(app.wall - bare.wall);
    differences.app.cpu.push(app.cpu - bare.cpu);
    withFetch.wall.push(fetched.wall - bare.wall);
    withFetch.cpu.push(fetched.cpu - bare.cpu);
  }
  const cpu = median(differences.app.cpu);
  console.log(
    `Cold load of ${main} (${files.length} files) over a bare worker, median of ${PAIRS} alternating runs:`,
  );
  console.log(
    `  load                     CPU ${cpu.toFixed(1).padStart(6)} ms   wall ${median(differences.app.wall).toFixed(1).padStart(6)} ms`,
  );
  console.log(
    `  load + first JWKS fetch  CPU ${median(withFetch.cpu).toFixed(1).padStart(6)} ms   wall ${median(withFetch.wall).toFixed(1).padStart(6)} ms`,
  );
  console.log(`cold-load CPU time over bare node: ${cpu.toFixed(1)} ms`);
  if (cpu > TARGET_MS) {
    console.log(`FAIL: loading the app costs more than ${TARGET_MS} ms.`);
    return false;
  }
  return true;
}

if (require.main === module) {
  try {
    const root = process.argv[2] ? path.resolve(process.argv[2]) : findProjectRoot(__dirname);
    if (!measureColdStart(root)) process.exitCode = 1;
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  }
}
