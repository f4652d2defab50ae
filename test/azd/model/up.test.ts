/**
 * A first `azd up --no-prompt` on a fresh clone of this repository (no node_modules, no dist),
 * through the model of azd (azd-up.ts) against the fake Graph and ARM: three times, with
 * packaging started at different offsets from `preprovision` (which matter only where azd runs
 * the unified graph; azure.yaml's `workflows: up:` runs the steps one by one), the last one with
 * the hooks' Windows (pwsh) variants where pwsh is installed. Each must end with the smoke test
 * passing. The second run has both production switches on (NETWORK_ISOLATION, APIM_IDENTITY).
 * Then, in the first and the second run, a second `azd up` writes nothing to Graph, and
 * `azd down` removes exactly what the first created.
 *
 * Slow by nature: every run installs the packages (`npm ci`) and builds several times.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useCompiledTemplate, ROOT } from '../../support/bicep';
import { FakeGraph } from '../hooks/fake-graph';
import { installAzdCli } from './azd-cli';
import { AzdModel, StepFailed, type StepRecord } from './azd-up';
import { setValues } from './azd-env';
import { FakeCloud } from './cloud';
import type { Platform } from './project';

const compiled = useCompiledTemplate();

const SUBSCRIPTION_ID = '5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d';
const SUBSCRIPTION_TENANT = 'e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b';
const SUBSCRIPTION_TENANT_TOKEN = 'fake-graph-token-of-the-subscription-tenant';

function findPwsh(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, 'pwsh');
    if (dir !== '' && fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

const PWSH = findPwsh();

/** The files a fresh clone has: what git tracks (and new files not ignored), nothing built. */
function freshClone(into: string): void {
  const listed = execFileSync(
    'git',
    ['ls-files', '-z', '--cached', '--others', '--exclude-standard'],
    {
      cwd: ROOT,
      encoding: 'utf8',
    },
  );
  for (const file of listed.split('\0').filter((f) => f !== '')) {
    const from = path.join(ROOT, file);
    if (!fs.existsSync(from)) continue;
    fs.mkdirSync(path.dirname(path.join(into, file)), { recursive: true });
    fs.copyFileSync(from, path.join(into, file));
  }
}

interface Run {
  readonly packageOffsetMs: number;
  readonly platform: Platform;
  /** AZURE_TENANT_ID in the shell, naming the account's home tenant, not the subscription's. */
  readonly shellTenant?: boolean;
  /** `azd env set` before `azd up`: the production switches (docs/deployment.md). */
  readonly switches?: Readonly<Record<string, string>>;
}

const RUNS: Run[] = [
  { packageOffsetMs: 0, platform: 'posix' },
  {
    packageOffsetMs: 3500,
    platform: 'posix',
    shellTenant: true,
    switches: { NETWORK_ISOLATION: 'true', APIM_IDENTITY: 'userAssigned' },
  },
  { packageOffsetMs: -2000, platform: PWSH ? 'windows' : 'posix' },
];

async function world(template: Record<string, unknown>, run: Run) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'azd-up-'));
  const root = path.join(dir, 'clone');
  freshClone(root);
  const graph = await new FakeGraph().start();
  // The account's home tenant is graph.tenantId; the subscription lives in another tenant.
  graph.tokenTenants.set(SUBSCRIPTION_TENANT_TOKEN, SUBSCRIPTION_TENANT);
  graph.arm.subscriptions.set(SUBSCRIPTION_ID, SUBSCRIPTION_TENANT);
  const cli = installAzdCli({
    dir,
    subscriptions: { [SUBSCRIPTION_ID]: SUBSCRIPTION_TENANT },
    tokens: { [graph.tenantId]: graph.token, [SUBSCRIPTION_TENANT]: SUBSCRIPTION_TENANT_TOKEN },
    homeTenant: graph.tenantId,
  });
  const cloud = new FakeCloud(template, graph);
  if (run.switches) setValues(root, 'dev', { ...run.switches });
  const processEnv: Record<string, string> = {
    PATH: [
      cli.bin,
      path.dirname(process.execPath),
      ...(PWSH ? [path.dirname(PWSH)] : []),
      '/usr/bin',
      '/bin',
    ].join(path.delimiter),
    HOME: process.env.HOME ?? os.homedir(),
    // How npm reaches the registry here (a proxy, its CA), as azd passes its own environment on.
    ...Object.fromEntries(
      Object.entries(process.env).filter(
        (entry): entry is [string, string] =>
          /^(NODE_EXTRA_CA_CERTS|(HTTPS?|NO)_PROXY|npm_config_(cafile|proxy|https_proxy|registry))$/i.test(
            entry[0],
          ) && entry[1] !== undefined,
      ),
    ),
    ...(process.env.DOTNET_ROOT ? { DOTNET_ROOT: process.env.DOTNET_ROOT } : {}),
    npm_config_update_notifier: 'false',
    GRAPH_ENDPOINT: graph.url,
    ARM_ENDPOINT: graph.arm.url,
    SMOKE_TEST_TIMEOUT_SECONDS: '120',
    ...(run.shellTenant ? { AZURE_TENANT_ID: graph.tenantId } : {}),
    ...cli.env,
  };
  const model = new AzdModel({
    root,
    envName: 'dev',
    subscriptionId: SUBSCRIPTION_ID,
    location: 'swedencentral',
    platform: run.platform,
    pwsh: PWSH,
    cloud,
    processEnv,
    packageOffsetMs: run.packageOffsetMs,
    commandTimeoutMs: 900_000,
  });
  return {
    root,
    graph,
    cli,
    cloud,
    model,
    async close() {
      await cloud.close();
      await graph.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs a model command; on failure, the failing step's output is in the error. */
async function run(action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (error: unknown) {
    if (error instanceof StepFailed) {
      const detail = `${error.message}\n${error.output.slice(-4000)}`;
      console.error(detail);
      throw new Error(detail, { cause: error });
    }
    throw error;
  }
}

const overlap = (a: StepRecord, b: StepRecord) => a.start < b.end && b.start < a.end;

describe.skipIf(process.platform === 'win32')(
  'a first azd up --no-prompt on a fresh clone, through the model of azd',
  () => {
    for (const params of RUNS)
      it(
        `succeeds with packaging offset ${params.packageOffsetMs} ms from preprovision, ${params.platform} hooks` +
          (PWSH ? '' : ' (pwsh is not installed: the windows variants are not run)'),
        async (ctx) => {
          const { template } = compiled(ctx);
          const w = await world(template, params);
          try {
            await run(() => w.model.up());
            const steps = w.model.steps;
            expect(steps[0]).toMatchObject({ name: 'initialize: parameters', ok: true });
            expect(w.model.project.upWorkflow).toEqual(['provision', 'deploy --all']);
            const hooks = steps.filter((s) => s.name.startsWith('hook '));
            const packaging = steps.filter((s) => s.name.startsWith('package'));
            expect(hooks.map((s) => s.name)).toEqual([
              'hook preprovision',
              'hook postprovision',
              'hook predeploy',
              'hook postdeploy',
            ]);
            for (const hook of hooks)
              for (const pack of packaging)
                expect(overlap(hook, pack), `${hook.name} / ${pack.name}`).toBe(false);

            // One app registration, in the subscription's tenant, and the role granted to APIM.
            const apps = [...w.graph.apps.values()];
            expect(apps).toHaveLength(1);
            expect(w.graph.appTenants.get(apps[0]!.appId)).toBe(SUBSCRIPTION_TENANT);
            const env = w.model.env();
            expect(env).toMatchObject({
              API_APP_CLIENT_ID: apps[0]!.appId,
              API_APP_ROLE: 'Api.Invoke',
              AZURE_TENANT_ID: SUBSCRIPTION_TENANT,
            });
            expect(w.graph.assignments.map((a) => a.principalId)).toEqual([env.APIM_PRINCIPAL_ID]);
            const postdeploy = hooks[3]!;
            expect(postdeploy.output).toContain('PASS apim-hides-backend-headers');
            expect(postdeploy.output).toContain('Smoke test passed');
            const files = w.cloud.deployed.get('api') ?? [];
            expect(files).toContain('package.json');
            expect(files).toContain('functions/hello.ts');
            expect(files.filter((f) => /^(node_modules|dist|\.hooks)\//.test(f))).toEqual([]);
            // What the remote build installs: the runtime dependencies and the build's tools only.
            const deployed = JSON.parse(
              fs.readFileSync(path.join(w.root, '.package', 'api', 'package.json'), 'utf8'),
            ) as { devDependencies: Record<string, string> };
            const tools = Object.keys(deployed.devDependencies);
            expect(tools).toContain('typescript');
            expect(tools.filter((t) => !/^(typescript|esbuild|@types\/.+)$/.test(t))).toEqual([]);
            if (params.switches) {
              // The user-assigned identity got the role; the network refused the direct calls.
              const identity = w.cloud.deployment?.resources.find(
                (r) =>
                  r.type === 'Microsoft.ManagedIdentity/userAssignedIdentities' &&
                  r.name.startsWith('id-apim-'),
              );
              expect(identity && w.cloud.deployment?.runtime(identity.id).principalId).toBe(
                env.APIM_PRINCIPAL_ID,
              );
              expect(postdeploy.output).toContain('PASS function-refused-by-network:');
              expect(postdeploy.output).toContain('PASS function-refused-by-network-with-token:');
            }
            if (params.shellTenant) {
              expect(hooks[0]!.output).toContain(
                `AZURE_TENANT_ID is ${w.graph.tenantId}, but the subscription`,
              );
            }
            if (params.packageOffsetMs !== 0 && params.switches === undefined) return;

            // A second run writes nothing to Graph; azd down removes exactly what the first created.
            const writes = w.graph.writes().length;
            const sets = w.cli
              .calls()
              .filter((c) => c.args[0] === 'env' && c.args[1] === 'set').length;
            await run(() => w.model.up());
            expect(w.graph.writes().slice(writes)).toEqual([]);
            expect(
              w.cli.calls().filter((c) => c.args[0] === 'env' && c.args[1] === 'set'),
            ).toHaveLength(sets);
            await run(() => w.model.down());
            expect([...w.graph.apps.values()]).toEqual([]);
            expect([...w.graph.sps.values()]).toEqual([]);
            expect(w.graph.assignments).toEqual([]);
            expect([...w.graph.deleted.keys()]).toEqual([]);
            expect(w.cloud.deployment).toBeUndefined();
          } finally {
            await w.close();
          }
        },
        1_800_000,
      );
  },
);
