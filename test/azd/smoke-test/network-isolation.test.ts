/**
 * The smoke test of the network-isolated variant (NETWORK_ISOLATION=true): a direct call to the
 * Function App must be refused by the network layer, and the same call through API Management
 * answers 200. The fake deployment's front end stands in for App Service access restrictions.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { formatReport, runSmokeChecks } from '../../../scripts/azd/smoke-test/checks';
import { refusingLayer } from '../../../scripts/azd/smoke-test/network-isolation';
import type { Exchange } from '../../../scripts/azd/smoke-test/exchange';
import {
  startFakeDeployment,
  type DeploymentBehaviour,
  type FakeDeployment,
} from './fake-deployment';

let deployment: FakeDeployment | undefined;

afterEach(async () => {
  await deployment?.close();
  deployment = undefined;
});

async function smokeIsolated(behaviour: DeploymentBehaviour) {
  deployment = await startFakeDeployment(behaviour);
  return runSmokeChecks(
    {
      gatewayUrl: deployment.gatewayUrl,
      apiPath: 'api',
      functionUrl: deployment.functionUrl,
      subscriptionKey: deployment.subscriptionKey,
      expectedObjectId: deployment.apimObjectId,
      role: 'Api.Invoke',
    },
    { networkIsolation: true, sleep: () => Promise.resolve(), propagationTimeoutMs: 0 },
  );
}

const result = (report: Awaited<ReturnType<typeof smokeIsolated>>, name: string) =>
  report.results.find((r) => r.name === name);

describe('smoke test with NETWORK_ISOLATION=true', () => {
  it('passes when the front end refuses direct calls and API Management answers 200, naming the network layer', async () => {
    const report = await smokeIsolated({ accessRestricted: true });
    expect(formatReport(report).filter((l) => l.startsWith('FAIL'))).toEqual([]);
    expect(result(report, 'apim-hello-with-key')?.ok).toBe(true);
    for (const name of ['function-refused-by-network', 'function-refused-by-network-with-token']) {
      expect(result(report, name)).toMatchObject({
        ok: true,
        detail: expect.stringContaining('refused by the network layer') as unknown,
      });
    }
    expect(report.results.map((r) => r.name)).not.toContain('function-rejects-no-token');
  });

  it('fails when the Function App is reachable and App Service Authentication answers instead, and says so', async () => {
    const report = await smokeIsolated({ platformBlocks: true });
    expect(report.ok).toBe(false);
    expect(result(report, 'function-refused-by-network')).toMatchObject({
      ok: false,
      detail: expect.stringContaining(
        'App Service Authentication: the network let it in',
      ) as unknown,
    });
  });

  it('fails when only the function code refuses', async () => {
    const report = await smokeIsolated({});
    expect(result(report, 'function-refused-by-network')).toMatchObject({
      ok: false,
      detail: expect.stringContaining('from the function code') as unknown,
    });
  });
});

describe('refusingLayer', () => {
  const exchange = (
    status: number,
    headers: Record<string, string>,
    body: string,
    error?: string,
  ): Exchange => ({
    url: 'https://func.example/api/hello',
    status,
    headers: new Headers(headers),
    body,
    ...(error === undefined ? {} : { error }),
  });

  it('names the network for App Service 403 pages and for a connection that fails (private endpoint)', () => {
    expect(
      refusingLayer(exchange(403, { 'content-type': 'text/html' }, 'Ip Forbidden')).layer,
    ).toBe('network');
    expect(refusingLayer(exchange(0, {}, '', 'connect ETIMEDOUT')).layer).toBe('network');
  });

  it('names App Service Authentication (401 or WWW-Authenticate) and the code (problem+json with a code)', () => {
    expect(refusingLayer(exchange(401, { 'www-authenticate': 'Bearer' }, '')).layer).toBe(
      'app-service-authentication',
    );
    expect(
      refusingLayer(
        exchange(403, { 'content-type': 'application/problem+json' }, '{"code":"forbidden"}'),
      ).layer,
    ).toBe('function-code');
    expect(refusingLayer(exchange(200, {}, '{}')).layer).toBe('none');
    expect(refusingLayer(exchange(500, {}, '')).layer).toBe('none');
  });
});
