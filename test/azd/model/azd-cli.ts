/**
 * The `azd` executable the model puts first on the hooks' PATH. It answers what hooks and
 * @azure/identity's AzureDeveloperCliCredential run, as azd does:
 *
 * - the project is the nearest folder up from the working directory with an azure.yaml, and
 *   its environment AZURE_ENV_NAME when set (azd passes it to hooks; cli/azd/internal/env_flag.go),
 *   else the default one; AzureDeveloperCliCredential runs azd from a folder outside the project
 *   (/bin), where there is neither;
 * - `azd env set KEY VALUE` writes `.azure/<env>/.env`;
 * - `azd env get-values --output json`;
 * - `azd auth token --output json --scope S [--tenant-id T]`: a token of the tenant named by
 *   `--tenant-id`, else of the tenant through which the account reaches the environment's
 *   AZURE_SUBSCRIPTION_ID, else of the process's AZURE_SUBSCRIPTION_ID, else of the account's home
 *   tenant (cli/azd/cmd/auth_token.go: getTenantIdFromAzdEnv, getTenantIdFromEnv).
 *
 * Every call is logged (MODEL_AZD_LOG) with the environment it acted on. POSIX only (a script
 * with a `#!/usr/bin/env node` line).
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const SCRIPT = `#!/usr/bin/env node
const fs = require('node:fs');
const path = require('node:path');
const args = process.argv.slice(2);
const fail = (message) => { process.stderr.write('ERROR: ' + message + '\\n'); process.exit(1); };
// The project: the nearest folder up from the working directory that holds azure.yaml.
let root = process.cwd();
while (!fs.existsSync(path.join(root, 'azure.yaml')) && path.dirname(root) !== root) root = path.dirname(root);
if (!fs.existsSync(path.join(root, 'azure.yaml'))) root = undefined;
let name = root ? process.env.AZURE_ENV_NAME : undefined;
if (root && !name) {
  try { name = JSON.parse(fs.readFileSync(path.join(root, '.azure', 'config.json'), 'utf8')).defaultEnvironment; } catch {}
}
fs.appendFileSync(process.env.MODEL_AZD_LOG, JSON.stringify({ args, env: name || null, cwd: process.cwd() }) + '\\n');
const dotenvFile = () => path.join(root, '.azure', name, '.env');
const read = () => {
  const values = {};
  if (!name || !fs.existsSync(dotenvFile())) return values;
  for (const line of fs.readFileSync(dotenvFile(), 'utf8').split('\\n')) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (m) values[m[1]] = JSON.parse(m[2]);
  }
  return values;
};
const flag = (flagName) => { const i = args.indexOf(flagName); return i >= 0 ? args[i + 1] : undefined; };
const is = (...words) => words.every((word, i) => args[i] === word);
if (is('env', 'set') && args.length === 4) {
  if (!name) fail('no project or no environment selected');
  const values = { ...read(), [args[2]]: args[3] };
  const text = Object.keys(values).sort().map((k) => k + '=' + JSON.stringify(values[k])).join('\\n') + '\\n';
  fs.writeFileSync(dotenvFile() + '.tmp', text);
  fs.renameSync(dotenvFile() + '.tmp', dotenvFile());
} else if (is('env', 'get-values') && flag('--output') === 'json') {
  if (!name) fail('no project or no environment selected');
  process.stdout.write(JSON.stringify(read()));
} else if (is('auth', 'token')) {
  const subscriptions = JSON.parse(process.env.MODEL_AZD_SUBSCRIPTIONS);
  const tokens = JSON.parse(process.env.MODEL_AZD_TOKENS);
  const tenantOf = (id, where) => {
    if (!(id in subscriptions)) fail('getting the subscription from ' + where + ': subscription ' + id + ' not found');
    return subscriptions[id];
  };
  let tenant = flag('--tenant-id');
  if (!tenant && name && read().AZURE_SUBSCRIPTION_ID) tenant = tenantOf(read().AZURE_SUBSCRIPTION_ID, 'azd environment (' + name + ')');
  if (!tenant && process.env.AZURE_SUBSCRIPTION_ID) tenant = tenantOf(process.env.AZURE_SUBSCRIPTION_ID, 'system environment (AZURE_SUBSCRIPTION_ID)');
  if (!tenant) tenant = process.env.MODEL_AZD_HOME_TENANT;
  if (!(tenant in tokens)) fail('AADSTS50020: the signed-in account is not in tenant ' + tenant);
  process.stdout.write(JSON.stringify({ token: tokens[tenant], expiresOn: new Date(Date.now() + 3600e3).toISOString() }));
} else {
  fail('model azd: unsupported command ' + args.join(' '));
}
`;

export interface AzdCliCall {
  readonly args: string[];
  readonly env: string | null;
  readonly cwd: string;
}

export interface AzdCli {
  /** Directory to put first on PATH. */
  readonly bin: string;
  /** What the executable needs in its environment. */
  readonly env: Record<string, string>;
  calls(): AzdCliCall[];
}

export interface AzdCliOptions {
  readonly dir: string;
  /** subscription id -> the tenant through which the account reaches it. */
  readonly subscriptions: Readonly<Record<string, string>>;
  /** tenant id -> the token azd hands out for it (the account is a member of these tenants). */
  readonly tokens: Readonly<Record<string, string>>;
  readonly homeTenant: string;
}

export function installAzdCli(options: AzdCliOptions): AzdCli {
  const bin = path.join(options.dir, 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(path.join(bin, 'azd'), SCRIPT);
  chmodSync(path.join(bin, 'azd'), 0o755);
  const log = path.join(options.dir, 'azd-calls.log');
  writeFileSync(log, '');
  return {
    bin,
    env: {
      MODEL_AZD_LOG: log,
      MODEL_AZD_SUBSCRIPTIONS: JSON.stringify(options.subscriptions),
      MODEL_AZD_TOKENS: JSON.stringify(options.tokens),
      MODEL_AZD_HOME_TENANT: options.homeTenant,
    },
    calls: () =>
      readFileSync(log, 'utf8')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as AzdCliCall),
  };
}
