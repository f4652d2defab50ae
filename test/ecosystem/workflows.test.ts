/**
 * .github/workflows: accepted by GitHub's own workflow parser, and doing what
 * docs/ci-and-pipelines.md says: CI runs .ci/run on Node 22 and 24; the deployment workflow is the
 * one `azd pipeline config` expects, with federated credentials and no secret.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PWSH, requireTool, runTests, skipNote } from './tools';
import {
  parseYaml,
  readRepoFile,
  ROOT,
  workflowErrors,
  type Job,
  type Step,
  type Workflow,
} from './workflow-parser';

const CI = '.github/workflows/ci.yml';
const AZURE_DEV = '.github/workflows/azure-dev.yml';

function onlyJob(workflow: Workflow): Job {
  const jobs = Object.values(workflow.jobs);
  expect(jobs).toHaveLength(1);
  return jobs[0]!;
}

function stepUsing(job: Job, action: string): Step {
  const step = job.steps.find((s) => s.uses?.split('@')[0] === action);
  if (!step) throw new Error(`no step uses ${action}`);
  return step;
}

/** The deployed Node major version, from the Function App's Bicep module. */
function deployedNodeMajor(): number {
  const bicep = readRepoFile('infra/modules/function-app.bicep');
  const match = /runtime:\s*\{\s*name:\s*'node'\s*version:\s*'(\d+)'/.exec(bicep);
  if (!match) throw new Error('no Node runtime version in infra/modules/function-app.bicep');
  return Number(match[1]);
}

function oldestSupportedNodeMajor(): number {
  const engines = (JSON.parse(readRepoFile('package.json')) as { engines: { node: string } })
    .engines.node;
  const match = /^>=(\d+)\./.exec(engines);
  if (!match) throw new Error(`unexpected engines.node: ${engines}`);
  return Number(match[1]);
}

describe("GitHub's workflow parser", () => {
  it.each([CI, AZURE_DEV])('accepts %s', async (file) => {
    expect(await workflowErrors(file, readRepoFile(file))).toEqual([]);
  });

  it('rejects a workflow with a misspelt key, an unknown event and a broken expression', async () => {
    const broken = readRepoFile(CI)
      .replace('runs-on:', 'run-on:')
      .replace('pull_request:', 'pull_requests:')
      .replace('${{ matrix.node }}', '${{ matrix.node( }}');
    const errors = await workflowErrors(CI, broken);
    expect(errors.join('\n')).toMatch(/run-on/);
    expect(errors.join('\n')).toMatch(/pull_requests/);
    expect(errors.join('\n')).toMatch(/Unexpected symbol: '\('/);
  });
});

describe('ci.yml', () => {
  const workflow = parseYaml<Workflow>(readRepoFile(CI));
  const job = onlyJob(workflow);

  it('runs on every push and pull request, reading the repository only', () => {
    expect(Object.keys(workflow.on).sort()).toEqual(['pull_request', 'push']);
    expect(workflow.on.push).toBeNull();
    expect(workflow.permissions).toEqual({ contents: 'read' });
  });

  // Node 20 reached its end of life on 2026-04-30 (nodejs.org, Release schedule); 22 and 24 are
  // the LTS lines. The oldest that package.json "engines" allows is the one Azure runs the app on.
  it('runs on the deployed Node (Bicep), the oldest supported (package.json engines), and 24', () => {
    expect(oldestSupportedNodeMajor()).toBe(deployedNodeMajor());
    expect(deployedNodeMajor()).toBe(22);
    expect(job.strategy?.matrix?.node).toEqual([deployedNodeMajor(), 24]);
  });

  it('sets up that Node with the npm cache', () => {
    expect(stepUsing(job, 'actions/setup-node').with).toEqual({
      'node-version': '${{ matrix.node }}',
      cache: 'npm',
    });
  });

  it('sets up .NET, from which .ci/run restores the Bicep CLI (and pwsh where it is missing)', () => {
    expect(stepUsing(job, 'actions/setup-dotnet').with?.['dotnet-version']).toMatch(/^\d+\.0\.x$/);
    const cache = stepUsing(job, 'actions/cache').with;
    expect(cache?.path).toBe('~/.cache/functions-behind-apim');
  });

  it('runs .ci/run, last, with CI=true (a missing tool fails instead of skipping)', () => {
    expect(job.steps.at(-1)?.run).toBe('.ci/run');
    expect(job.env?.CI).toBe(true);
    const mode = fs.statSync(path.join(ROOT, '.ci/run')).mode;
    expect(mode & 0o111).not.toBe(0);
  });

  it('checks out before anything else', () => {
    expect(job.steps[0]?.uses).toMatch(/^actions\/checkout@v\d+$/);
  });
});

describe('azure-dev.yml (azd pipeline config, GitHub, federated credentials)', () => {
  const text = readRepoFile(AZURE_DEV);
  const workflow = parseYaml<Workflow>(text);
  const job = onlyJob(workflow);
  const runs = job.steps.map((s) => s.run ?? '').filter((r) => r !== '');

  it('runs on a push to main and on manual dispatch', () => {
    expect(workflow.on).toEqual({ workflow_dispatch: null, push: { branches: ['main'] } });
  });

  it('may request an OIDC token and only read the repository', () => {
    expect(workflow.permissions).toEqual({ 'id-token': 'write', contents: 'read' });
  });

  it('takes the five values azd pipeline config stores and the two switches as repository variables, and no secret', () => {
    expect(job.env).toEqual({
      AZURE_CLIENT_ID: '${{ vars.AZURE_CLIENT_ID }}',
      AZURE_TENANT_ID: '${{ vars.AZURE_TENANT_ID }}',
      AZURE_SUBSCRIPTION_ID: '${{ vars.AZURE_SUBSCRIPTION_ID }}',
      AZURE_ENV_NAME: '${{ vars.AZURE_ENV_NAME }}',
      AZURE_LOCATION: '${{ vars.AZURE_LOCATION }}',
      NETWORK_ISOLATION: "${{ vars.NETWORK_ISOLATION || 'false' }}",
      APIM_IDENTITY: "${{ vars.APIM_IDENTITY || 'systemAssigned' }}",
    });
    expect(text).not.toMatch(/secrets\./);
    expect(text).not.toMatch(/client-secret|AZURE_CREDENTIALS/);
  });

  it('installs azd and Node 22, the runtime the hooks and the deployed app use', () => {
    stepUsing(job, 'Azure/setup-azd');
    expect(stepUsing(job, 'actions/setup-node').with?.['node-version']).toBe(deployedNodeMajor());
  });

  it('signs in to azd with the federated credential of GitHub, as the pipeline identity', () => {
    const login = job.steps.find((s) => s.run?.includes('azd auth login'));
    expect(login?.shell).toBe('pwsh');
    expect(login!.run!.replace(/\s*`\s*\n\s*/g, ' ').trim()).toBe(
      'azd auth login --client-id "$Env:AZURE_CLIENT_ID" --federated-credential-provider "github" ' +
        '--tenant-id "$Env:AZURE_TENANT_ID"',
    );
  });

  it.runIf(runTests(PWSH))(
    `the sign-in step, run by pwsh, passes azd the client and tenant ids${skipNote(PWSH)}`,
    () => {
      const login = job.steps.find((s) => s.run?.includes('azd auth login'))!;
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-azd-login-'));
      try {
        fs.writeFileSync(
          path.join(dir, 'azd'),
          `#!/bin/sh\nfor a in "$@"; do printf '%s\\n' "$a"; done > '${dir}/args'\n`,
          { mode: 0o755 },
        );
        const result = spawnSync(
          requireTool(PWSH),
          ['-NoProfile', '-NonInteractive', '-Command', login.run!],
          {
            env: {
              PATH: [dir, '/usr/bin', '/bin'].join(path.delimiter),
              HOME: dir,
              AZURE_CLIENT_ID: 'client-id-value',
              AZURE_TENANT_ID: 'tenant-id-value',
            },
            encoding: 'utf8',
          },
        );
        expect(result.status).toBe(0);
        expect(fs.readFileSync(path.join(dir, 'args'), 'utf8').trim().split('\n')).toEqual([
          'auth',
          'login',
          '--client-id',
          'client-id-value',
          '--federated-credential-provider',
          'github',
          '--tenant-id',
          'tenant-id-value',
        ]);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it('provisions, then deploys (whose postdeploy hook runs the smoke test), never prompting', () => {
    const azd = runs.filter((r) => r.startsWith('azd ') && !r.startsWith('azd auth'));
    expect(azd).toEqual(['azd provision --no-prompt', 'azd deploy --no-prompt']);
    const azureYaml = parseYaml<{ hooks: Record<string, unknown> }>(readRepoFile('azure.yaml'));
    expect(Object.keys(azureYaml.hooks)).toEqual(
      expect.arrayContaining(['preprovision', 'postprovision', 'postdeploy']),
    );
  });

  it('never runs two deployments of one environment at once, nor cancels one half-way', () => {
    expect((workflow as unknown as { concurrency: unknown }).concurrency).toEqual({
      group: 'azure-dev-${{ vars.AZURE_ENV_NAME }}',
      'cancel-in-progress': false,
    });
  });
});
