/**
 * The npm scripts of the local services (`npm start`, `serve`, `identity`, `gateway`) run through
 * this file: plain JavaScript, so that it works before any build.
 *
 * - Without a build, it says in one line what to run instead of Node.js printing a stack trace.
 * - `npm start` checks its three ports *before* building: a second `npm start` beside a running one
 *   stops there and leaves that stack's dist/ alone (the build empties dist/ first).
 *
 * It then runs the compiled entry point in this same process, so that the process npm starts is the
 * service itself (the supervisor, for npm start) and no wrapper sits between npm and it.
 */
'use strict';

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..', '..');

/** npm script name: the entry point below dist/scripts/, and whether the script builds first. */
const SCRIPTS = {
  start: { entry: 'local/start/main', build: true },
  serve: { entry: 'local/host/main', build: false },
  identity: { entry: 'local/identity/main', build: false },
  gateway: { entry: 'local/gateway/main', build: false },
};

/**
 * The ports npm start serves, as DEFAULT_PORTS in scripts/local/shared/environment.ts has them
 * (test/local/start/launch.test.ts keeps the two equal).
 */
const START_PORTS = { IDENTITY_PORT: 7072, FUNCTIONS_PORT: 7071, GATEWAY_PORT: 7073 };

/** The port to check, or undefined when the value is no port (the compiled entry names it). */
function portFrom(env, variable, fallback) {
  const raw = (env[variable] ?? '').trim();
  if (raw === '') return fallback;
  const port = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  return port >= 1 && port <= 65535 ? port : undefined;
}

/** Resolves to the error of listening on 127.0.0.1:port (EADDRINUSE when taken), or undefined. */
function probe(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (error) => resolve(error));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(undefined)));
  });
}

async function portsInUse(env) {
  const taken = [];
  for (const [variable, fallback] of Object.entries(START_PORTS)) {
    const port = portFrom(env, variable, fallback);
    if (port === undefined) continue;
    const error = await probe(port);
    if (error && error.code === 'EADDRINUSE') taken.push({ variable, port });
  }
  return taken;
}

function build() {
  // npm sets npm_execpath to its own CLI when it runs a script; the build is `npm run build`.
  const npm = process.env.npm_execpath;
  const result = npm
    ? spawnSync(process.execPath, [npm, 'run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' })
    : spawnSync('npm', ['run', '-s', 'build'], {
        cwd: ROOT,
        stdio: 'inherit',
        shell: process.platform === 'win32',
      });
  return result.status === 0;
}

async function launch(name, args) {
  const script = SCRIPTS[name];
  if (!script) {
    console.error(
      `launch.cjs: unknown script "${name}"; known: ${Object.keys(SCRIPTS).join(', ')}.`,
    );
    return 2;
  }
  const entry = path.join(ROOT, 'dist', 'scripts', `${script.entry}.js`);
  if (script.build) {
    const taken = await portsInUse(process.env);
    if (taken.length > 0) {
      for (const { variable, port } of taken) {
        console.error(
          `[start] Port ${port} on 127.0.0.1 is already in use: stop what uses it or set ${variable} to another port.`,
        );
      }
      console.error('[start] Nothing was built or started (a running npm start keeps its dist/).');
      return 1;
    }
    if (!build()) return 1;
  } else if (!fs.existsSync(entry)) {
    console.error(
      `\`npm run ${name}\` runs the compiled scripts, and there are none yet: run \`npm run build\` (or \`npm start\`, which builds) first.`,
    );
    return 2;
  }
  // The entry reads its arguments from process.argv[2...], as when Node.js runs it directly.
  process.argv = [process.argv[0], entry, ...args];
  require(entry);
  return undefined;
}

module.exports = { START_PORTS, SCRIPTS };

if (require.main === module) {
  launch(process.argv[2], process.argv.slice(3)).then(
    (code) => {
      if (code !== undefined) process.exitCode = code;
    },
    (error) => {
      console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
      process.exitCode = 1;
    },
  );
}
