/**
 * `npm run bench:load`: the local stack (`npm start`'s supervisor with the identity stand-in and
 * the gateway, and the built-in host as its child) under load from autocannon, on loopback only,
 * bounded in time. Four runs, one after the other:
 *
 *   valid token   GET /api/hello on the host, with a token of the apim identity   (expects 200)
 *   no token      the same without Authorization                                  (expects 401)
 *   garbage token the same with `Bearer` and random base64url                      (expects 401)
 *   gateway       GET /api/whoami through the gateway, with the subscription key   (expects 200)
 *
 * Prints req/s, p50 and p99 latency and errors (connection errors plus any other status) of each,
 * the resident memory of each process before, after the load and after an idle period, and the
 * ratio of valid-token to no-token throughput (the cost of a validated request, measured against
 * the cheapest refusal in the same run). The ratio comes from RATIO_ROUNDS short rounds in which
 * the two take turns, not from the table's runs: a run's figure also depends on what came just
 * before it (an idle pause, the machine's other work), which one long run each cannot even out.
 * Fails (exit 1) on errors or when a process's memory after the idle period is not within
 * MEMORY_TOLERANCE of where it started.
 *
 * BENCH_LOAD_SECONDS (default 5), BENCH_IDLE_SECONDS (default 10) and BENCH_CONNECTIONS (default
 * 10) change the bounds.
 */
import autocannon from 'autocannon';
import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { findProjectRoot } from '../local/shared/paths';

const MEMORY_TOLERANCE = 0.2;
/** Rounds of the valid-token/no-token ratio; each gives each of the two one second. */
const RATIO_ROUNDS = 5;

function seconds(variable: string, fallback: number): number {
  const raw = process.env[variable]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 600) {
    throw new TypeError(`${variable} must be a whole number from 1 to 600, got "${raw}".`);
  }
  return value;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Resident set size in MiB, from `ps` (Linux and macOS). */
function rssMiB(pid: number): number {
  const kib = Number(execFileSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' }));
  return kib / 1024;
}

interface Stack {
  readonly child: ChildProcess;
  readonly processes: ReadonlyArray<{ name: string; pid: number }>;
  lines: number;
}

async function startStack(root: string, env: NodeJS.ProcessEnv): Promise<Stack> {
  const child = spawn(process.execPath, [path.join(root, 'dist/scripts/local/start/main.js')], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const stack = { child, processes: [] as { name: string; pid: number }[], lines: 0 };
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (chunk: string): void => {
      stack.lines += chunk.split('\n').length - 1;
      if (output.length < 100_000) output += chunk;
      if (/^Press Ctrl-C to stop\.$/m.test(output)) resolve();
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', onData);
    child.once('exit', () => reject(new Error(`npm start ended before it was ready:\n${output}`)));
  });
  await ready;
  const supervisor = /\[start\] npm start runs as process (\d+)/.exec(output);
  const host = /\[start\] functions runs as process (\d+)/.exec(output);
  if (!supervisor || !host) throw new Error(`npm start did not print its process ids:\n${output}`);
  stack.processes.push(
    { name: 'supervisor (identity, gateway)', pid: Number(supervisor[1]) },
    { name: 'built-in host', pid: Number(host[1]) },
  );
  return stack;
}

interface Scenario {
  readonly name: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  /** The statuses this run should get; any other is an error. */
  readonly expected: readonly number[];
}

interface Figures {
  readonly scenario: Scenario;
  readonly requestsPerSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly total: number;
  readonly errors: number;
  readonly statuses: string;
  readonly logLines: number;
}

async function run(
  stack: Stack,
  scenario: Scenario,
  duration: number,
  connections: number,
): Promise<Figures> {
  const linesBefore = stack.lines;
  const result = await autocannon({
    url: scenario.url,
    headers: scenario.headers,
    connections,
    duration,
  });
  // Give the last log lines a moment to arrive before counting them.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const counts = Object.entries(result.statusCodeStats ?? {}).map(
    ([status, { count }]) => [Number(status), count ?? 0] as const,
  );
  const answered = counts.reduce((sum, [, count]) => sum + count, 0);
  const expected = counts
    .filter(([status]) => scenario.expected.includes(status))
    .reduce((sum, [, count]) => sum + count, 0);
  return {
    scenario,
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    total: answered,
    errors: result.errors + (answered - expected),
    statuses: counts.map(([status, count]) => `${status}: ${count}`).join(', '),
    logLines: stack.lines - linesBefore,
  };
}

async function main(): Promise<number> {
  const duration = seconds('BENCH_LOAD_SECONDS', 5);
  const idle = seconds('BENCH_IDLE_SECONDS', 10);
  const connections = seconds('BENCH_CONNECTIONS', 10);
  const root = findProjectRoot();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-load-'));
  const ports = {
    IDENTITY_PORT: await freePort(),
    FUNCTIONS_PORT: await freePort(),
    GATEWAY_PORT: await freePort(),
  };
  const subscriptionKey = crypto.randomBytes(16).toString('hex');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    IDENTITY_PORT: String(ports.IDENTITY_PORT),
    FUNCTIONS_PORT: String(ports.FUNCTIONS_PORT),
    GATEWAY_PORT: String(ports.GATEWAY_PORT),
    IDENTITY_KEYS_FILE: path.join(dir, 'keys.json'),
    LOCAL_FUNCTION_HOST: 'builtin',
    LOCAL_SUBSCRIPTION_KEY: subscriptionKey,
  };

  const stack = await startStack(root, env);
  // Whatever happens, the stack goes, and the whole run is bounded.
  const watchdog = setTimeout(
    () => {
      console.error('bench:load took too long; stopping.');
      stack.child.kill('SIGKILL');
      process.exit(1);
    },
    (4 * (duration + 3) + 2 * RATIO_ROUNDS * 2 + idle + 60) * 1000,
  );
  try {
    const minted = spawnSync(
      process.execPath,
      [path.join(root, 'dist/scripts/local/identity/main.js'), 'mint', 'apim'],
      { cwd: root, env, encoding: 'utf8' },
    );
    if (minted.status !== 0) throw new Error(`mint failed: ${minted.stderr}`);
    const token = minted.stdout.trim();
    const functions = `http://127.0.0.1:${ports.FUNCTIONS_PORT}/api/hello?name=bench`;
    const scenarios: Scenario[] = [
      {
        name: 'valid token (host)',
        url: functions,
        headers: { authorization: `Bearer ${token}` },
        expected: [200],
      },
      { name: 'no token (host)', url: functions, headers: {}, expected: [401] },
      {
        name: 'garbage token (host)',
        url: functions,
        headers: { authorization: `Bearer ${crypto.randomBytes(300).toString('base64url')}` },
        expected: [401],
      },
      {
        name: 'through the gateway',
        url: `http://127.0.0.1:${ports.GATEWAY_PORT}/api/whoami`,
        headers: { 'ocp-apim-subscription-key': subscriptionKey },
        // apim/policies/product.xml rate-limits each subscription: past its limit the calls get
        // 429 from the rate-limit policy, which is the gateway working, not failing.
        expected: [200, 429],
      },
    ];

    // Warm-up, not counted: the first key fetch, the JIT, the caches of a first request. "Before"
    // is the memory of a stack that has served, so that the idle figure compares like with like.
    // The gateway is not warmed up: that would spend its rate limit before the measured run.
    for (const scenario of scenarios.slice(0, 3)) await run(stack, scenario, 1, connections);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const before = stack.processes.map(({ pid }) => rssMiB(pid));
    const figures: Figures[] = [];
    let peak = before;
    for (const scenario of scenarios) {
      figures.push(await run(stack, scenario, duration, connections));
      peak = stack.processes.map(({ pid }, i) => Math.max(peak[i]!, rssMiB(pid)));
    }
    // The ratio: the two take turns, so that a slower moment of the machine costs both alike.
    const turns = { valid: 0, none: 0, errors: 0 };
    for (let round = 0; round < RATIO_ROUNDS; round += 1) {
      const valid = await run(stack, scenarios[0]!, 1, connections);
      const none = await run(stack, scenarios[1]!, 1, connections);
      turns.valid += valid.total;
      turns.none += none.total;
      turns.errors += valid.errors + none.errors;
    }
    const after = stack.processes.map(({ pid }) => rssMiB(pid));
    await new Promise((resolve) => setTimeout(resolve, idle * 1000));
    const afterIdle = stack.processes.map(({ pid }) => rssMiB(pid));

    const pad = (value: string | number, width: number) => String(value).padStart(width);
    console.log(
      `Local stack under load: ${connections} connections, ${duration} s per run (the host's after a 1 s warm-up), loopback, ${os.cpus().length} cores`,
    );
    console.log(
      `  ${'run'.padEnd(22)} ${pad('req/s', 8)} ${pad('p50 ms', 7)} ${pad('p99 ms', 7)} ${pad('requests', 9)} ${pad('errors', 7)} ${pad('log lines/req', 13)}  statuses`,
    );
    for (const f of figures) {
      console.log(
        `  ${f.scenario.name.padEnd(22)} ${pad(Math.round(f.requestsPerSecond), 8)} ${pad(f.p50, 7)} ${pad(f.p99, 7)} ${pad(f.total, 9)} ${pad(f.errors, 7)} ${pad((f.logLines / Math.max(1, f.total)).toFixed(2), 13)}  ${f.statuses}`,
      );
    }
    console.log(
      '  (through the gateway: the calls past the rate limit of apim/policies/product.xml get its 429)',
    );
    console.log(
      `  valid-token / no-token throughput: ${(turns.valid / turns.none).toFixed(2)} (${RATIO_ROUNDS} rounds of 1 s each, taking turns: ${turns.valid} and ${turns.none} requests)`,
    );
    console.log(
      `  ${'resident memory, MiB'.padEnd(32)} ${pad('before', 7)} ${pad('peak', 7)} ${pad('after', 7)} ${pad(`idle ${idle}s`, 8)}`,
    );
    let failed = turns.errors > 0 || figures.some((f) => f.errors > 0);
    stack.processes.forEach(({ name }, i) => {
      const within = afterIdle[i]! <= before[i]! * (1 + MEMORY_TOLERANCE);
      failed ||= !within;
      console.log(
        `  ${name.padEnd(32)} ${pad(before[i]!.toFixed(0), 7)} ${pad(peak[i]!.toFixed(0), 7)} ${pad(after[i]!.toFixed(0), 7)} ${pad(afterIdle[i]!.toFixed(0), 8)}  ${
          within ? 'within' : 'NOT within'
        } ${MEMORY_TOLERANCE * 100} % of before`,
      );
    });
    console.log(failed ? 'FAIL' : 'PASS');
    return failed ? 1 : 0;
  } finally {
    clearTimeout(watchdog);
    stack.child.kill('SIGTERM');
    await new Promise((resolve) => stack.child.once('exit', resolve));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  },
);
