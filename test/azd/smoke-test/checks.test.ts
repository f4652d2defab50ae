import { afterEach, describe, expect, it } from 'vitest';
import {
  formatReport,
  runSmokeChecks,
  type SmokeOptions,
  type SmokeReport,
} from '../../../scripts/azd/smoke-test/checks';
import {
  startFakeDeployment,
  type DeploymentBehaviour,
  type FakeDeployment,
} from './fake-deployment';

const CHECKS = [
  'apim-hello-with-key',
  'apim-whoami-caller',
  'apim-rejects-missing-key',
  'apim-rejects-wrong-key',
  'function-rejects-no-token',
  'function-rejects-garbage-token',
  'apim-hides-backend-headers',
  'apim-does-not-echo-key',
];

let deployment: FakeDeployment | undefined;

afterEach(async () => {
  await deployment?.close();
  deployment = undefined;
});

/** A clock that only moves when the smoke test sleeps. */
function fakeTime() {
  let now = 1_000_000;
  const sleeps: number[] = [];
  return {
    sleeps,
    options: {
      now: () => now,
      sleep: (ms: number) => {
        sleeps.push(ms);
        now += ms;
        return Promise.resolve();
      },
    } satisfies SmokeOptions,
  };
}

async function smoke(behaviour: DeploymentBehaviour = {}, options: SmokeOptions = {}) {
  deployment = await startFakeDeployment(behaviour);
  const time = fakeTime();
  const report = await runSmokeChecks(
    {
      gatewayUrl: deployment.gatewayUrl,
      apiPath: 'api',
      functionUrl: deployment.functionUrl,
      subscriptionKey: deployment.subscriptionKey,
      expectedObjectId: deployment.apimObjectId.toUpperCase(),
      role: 'Api.Invoke',
    },
    { ...time.options, ...options },
  );
  return { report, sleeps: time.sleeps, deployment };
}

function failed(report: SmokeReport): string[] {
  return report.results.filter((r) => !r.ok).map((r) => r.name);
}

function detail(report: SmokeReport, name: string): string {
  return report.results.find((r) => r.name === name)!.detail;
}

describe('smoke checks against a deployment that behaves right', () => {
  it('passes every check, each reported by name', async () => {
    const { report } = await smoke();
    expect(report.results.map((r) => r.name)).toEqual(CHECKS);
    expect(failed(report)).toEqual([]);
    expect(report.ok).toBe(true);
    expect(detail(report, 'apim-whoami-caller')).toContain('tokenVersion 2.0');
  });

  it('prints PASS lines and findings, and never the key', async () => {
    const { report, deployment } = await smoke();
    const lines = formatReport(report);
    expect(lines.filter((l) => l.startsWith('PASS '))).toHaveLength(CHECKS.length);
    expect(lines.at(-1)).toBe(`Smoke test passed: ${CHECKS.length} checks.`);
    expect(lines.join('\n')).not.toContain(deployment.subscriptionKey);
    expect(lines.some((l) => l.startsWith('NOTE ') && l.includes('Authorization header'))).toBe(
      true,
    );
  });

  it('says who refused a direct call: the function code (Easy Auth did not block) or the platform', async () => {
    const byCode = await smoke();
    expect(byCode.report.findings.join(' ')).toContain('the function code is the only layer');
    await deployment!.close();
    deployment = undefined;
    const byPlatform = await smoke({ platformBlocks: true });
    expect(failed(byPlatform.report)).toEqual([]);
    expect(byPlatform.report.findings.join(' ')).toContain(
      'App Service Authentication blocks unauthenticated callers',
    );
  });

  it('retries through API Management while the role assignment propagates, with backoff', async () => {
    const { report, sleeps, deployment } = await smoke({ failuresBeforeReady: 3 });
    expect(failed(report)).toEqual([]);
    expect(sleeps).toEqual([5000, 10000, 20000]);
    expect(detail(report, 'apim-hello-with-key')).toContain('4 attempts');
    expect(deployment.gatewayCalls.filter((p) => p.startsWith('/api/hello'))).toHaveLength(
      4 + 2 + 2,
    ); // with the key, then without a key and with a wrong one (twice: the key checks and the built-in errors note)
  });
});

describe('smoke checks against deployments that behave wrong', () => {
  it('fails when the Function App answers 200 without a token, and says it is open', async () => {
    const { report } = await smoke({ functionOpen: true });
    expect(failed(report)).toEqual(['function-rejects-no-token', 'function-rejects-garbage-token']);
    expect(report.ok).toBe(false);
    expect(report.findings.join(' ')).toContain('open to anyone');
    expect(formatReport(report).at(-1)).toBe(`Smoke test FAILED: 2 of ${CHECKS.length} checks.`);
  });

  it('fails at once when /whoami shows another object id', async () => {
    const { report, sleeps } = await smoke({
      whoamiObjectId: 'd3a4b5c6-3333-4c4d-8e5f-607182930415',
    });
    expect(failed(report)).toEqual(['apim-whoami-caller']);
    expect(detail(report, 'apim-whoami-caller')).toContain('d3a4b5c6-3333-4c4d-8e5f-607182930415');
    expect(sleeps).toEqual([]);
  });

  it('fails when the token is v1', async () => {
    const { report } = await smoke({ tokenVersion: '1.0' });
    expect(failed(report)).toEqual(['apim-whoami-caller']);
    expect(detail(report, 'apim-whoami-caller')).toContain('tokenVersion');
  });

  it('fails after the propagation deadline when the role never shows up, and the wait is bounded', async () => {
    const { report, sleeps } = await smoke({ whoamiRoles: [] }, { propagationTimeoutMs: 120_000 });
    expect(failed(report)).toEqual(['apim-whoami-caller']);
    expect(detail(report, 'apim-whoami-caller')).toContain('lack Api.Invoke');
    expect(sleeps.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(120_000);
    expect(sleeps.length).toBeGreaterThan(0);
  });

  it('fails when API Management lets calls through without a valid key', async () => {
    const { report } = await smoke({ gatewayAcceptsAnyKey: true });
    expect(failed(report)).toEqual(['apim-rejects-missing-key', 'apim-rejects-wrong-key']);
  });

  it("names App Service Authentication, and what to set, when it refuses API Management's own call", async () => {
    const { report, sleeps } = await smoke(
      { easyAuthRefusesEveryApplication: true },
      { propagationTimeoutMs: 60_000 },
    );
    expect(failed(report)).toEqual([
      'apim-hello-with-key',
      'apim-whoami-caller',
      'apim-hides-backend-headers',
    ]);
    expect(detail(report, 'apim-hello-with-key')).toContain(
      '403 from App Service Authentication, not from the function code',
    );
    expect(sleeps.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(2 * 60_000);
    const advice = report.findings.filter((f) => f.includes('allowedApplications'));
    expect(advice).toHaveLength(1);
    expect(advice[0]).toContain(
      'identityProviders.azureActiveDirectory.validation.defaultAuthorizationPolicy.allowedApplications',
    );
    expect(advice[0]).toContain(`az ad sp show --id ${deployment!.apimObjectId.toUpperCase()}`);
  });

  it("does not blame App Service Authentication for the function code's own refusal", async () => {
    const { report } = await smoke({ whoamiRoles: [] }, { propagationTimeoutMs: 0 });
    expect(report.findings.join(' ')).not.toContain('allowedApplications');
  });

  it('fails when backend headers come through API Management', async () => {
    const { report } = await smoke({ gatewayLeaksHeaders: true });
    expect(failed(report)).toEqual(['apim-hides-backend-headers']);
    expect(detail(report, 'apim-hides-backend-headers')).toMatch(/x-powered-by/i);
  });

  it("fails on the front end's ARRAffinity cookie, whose Domain names the Function App's host", async () => {
    const { report } = await smoke({ arrAffinity: true });
    expect(failed(report)).toEqual(['apim-hides-backend-headers']);
    expect(detail(report, 'apim-hides-backend-headers')).toContain(
      "set-cookie (names the Function App's host)",
    );
  });

  it('fails when API Management echoes the key, without printing it', async () => {
    const { report, deployment } = await smoke({ echoKey: true });
    expect(failed(report)).toEqual(['apim-does-not-echo-key']);
    expect(detail(report, 'apim-does-not-echo-key')).toContain('x-debug-subscription-key');
    expect(formatReport(report).join('\n')).not.toContain(deployment.subscriptionKey);
  });

  it('fails every check that needs an answer when nothing listens', async () => {
    const time = fakeTime();
    const report = await runSmokeChecks(
      {
        gatewayUrl: 'http://127.0.0.1:9',
        apiPath: 'api',
        functionUrl: 'http://127.0.0.1:9',
        subscriptionKey: 'k'.repeat(32),
        expectedObjectId: 'b1e2c3d4-1111-4a2b-8c3d-4e5f60718293',
        role: 'Api.Invoke',
      },
      { ...time.options, propagationTimeoutMs: 10_000 },
    );
    expect(failed(report)).toEqual(CHECKS);
    expect(detail(report, 'apim-hello-with-key')).toContain('no response');
  });
});
