import { execFile } from 'node:child_process';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFakeAzd, type FakeAzd } from '../../support/fake-azd';
import { FakeGraph } from './fake-graph';
import { SUBSCRIPTION_ID } from './support';

const ROOT = path.resolve(__dirname, '../../..');
const MAIN = path.join(ROOT, 'dist/scripts/azd/hooks/main.js');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let graph: FakeGraph;
let azd: FakeAzd;

beforeEach(async () => {
  graph = await new FakeGraph().start();
  azd = createFakeAzd();
});

afterEach(async () => {
  await graph.close();
  azd.remove();
});

function runHook(args: string[], values: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [MAIN, ...args],
      {
        cwd: ROOT,
        timeout: 60_000,
        env: { ...azd.env(graph.token), ...values },
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

function azdCalls(): string[][] {
  return azd.calls();
}

const BASE = () => ({
  AZURE_ENV_NAME: 'dev',
  AZURE_SUBSCRIPTION_ID: SUBSCRIPTION_ID,
  GRAPH_ENDPOINT: graph.url,
  ARM_ENDPOINT: graph.arm.url,
});

describe.skipIf(process.platform === 'win32')(
  'npm run hooks -- <name> as azd runs it (the fake azd CLI is a POSIX script)',
  () => {
    it('preprovision gets the token through AzureDeveloperCliCredential and stores ids with azd env set', async () => {
      const run = await runHook(['preprovision'], BASE());
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const app = [...graph.apps.values()][0]!;
      const sets = azdCalls().filter((args) => args[0] === 'env');
      expect(sets.map((args) => args.slice(2, 3)[0])).toEqual([
        'API_APP_CLIENT_ID',
        'API_APP_OBJECT_ID',
        'API_SP_OBJECT_ID',
        'API_APP_ROLE_ID',
        'API_APP_ROLE',
      ]);
      expect(sets[0]).toEqual(['env', 'set', 'API_APP_CLIENT_ID', app.appId]);
      // First ARM, for the subscription's tenant, then Graph in that tenant.
      // (The region and permission checks ask ARM too, each with its own token.)
      const auth = azdCalls().filter((args) => args[0] === 'auth');
      expect(auth[0]).toContain('https://management.azure.com/.default');
      const arm = auth.filter((args) => args.includes('https://management.azure.com/.default'));
      const graphTokens = auth.filter((args) =>
        args.includes('https://graph.microsoft.com/.default'),
      );
      expect(arm.length + graphTokens.length).toBe(auth.length);
      for (const args of arm) expect(args).not.toContain('--tenant-id');
      expect(graphTokens.length).toBeGreaterThan(0);
      for (const args of graphTokens) {
        expect(args.slice(args.indexOf('--tenant-id'))).toEqual(['--tenant-id', graph.tenantId]);
      }
      expect(run.stdout + run.stderr).not.toContain(graph.token);

      // azd passes the stored values to the next run: nothing to write, nothing to store.
      const stored = Object.fromEntries(sets.map((args) => [args[2]!, args[3]!]));
      azd.clear();
      graph.requests.length = 0;
      const again = await runHook(['preprovision'], { ...BASE(), ...stored });
      expect(again.code).toBe(0);
      expect(graph.writes()).toEqual([]);
      expect(azdCalls().filter((args) => args[0] === 'env')).toEqual([]);
    }, 60_000);

    it('prints the permission message and exits 1 when Graph refuses', async () => {
      // Twice: the permission check reads the registration first (a refusal there is a warning).
      graph.fail({
        method: 'GET',
        pathIncludes: 'applications(',
        status: 403,
        code: 'Authorization_RequestDenied',
        times: 2,
      });
      const run = await runHook(['preprovision'], BASE());
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('WARNING: Could not read your Microsoft Entra ID rights');
      expect(run.stderr).toContain('preprovision failed: Microsoft Graph refused to');
      expect(run.stderr).toContain('Application.ReadWrite.All');
      expect(run.stdout + run.stderr).not.toContain(graph.token);
    });

    it('names the missing azd values and exits 1 before asking for a token', async () => {
      const run = await runHook(['postprovision'], BASE());
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('APIM_PRINCIPAL_ID, API_SP_OBJECT_ID, API_APP_ROLE_ID');
      expect(azdCalls()).toEqual([]);
      expect(graph.requests).toEqual([]);
    });

    it('postdeploy runs the smoke test, which names the deployment values it lacks', async () => {
      const run = await runHook(['postdeploy'], BASE());
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(
        'postdeploy failed: The smoke test needs APIM_GATEWAY_URL, APIM_API_PATH, FUNCTION_APP_URL, ' +
          'APIM_SUBSCRIPTION_RESOURCE_ID, APIM_PRINCIPAL_ID, API_APP_ROLE',
      );
      expect(azdCalls()).toEqual([]);
    });

    it('prints the usage and exits 2 for an unknown hook', async () => {
      const run = await runHook(['postup'], BASE());
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(
        'Usage: npm run -s hooks -- <preprovision|postprovision|postdeploy|predown>',
      );
    });
  },
);
