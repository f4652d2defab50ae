import crypto from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../../scripts/local/gateway/server';
import { startIdentityServer, type IdentityServer } from '../../../scripts/local/identity/server';
import {
  APIM_IDENTITY,
  APP_ROLE,
  localFunctionAppSettings,
} from '../../../scripts/local/shared/environment';
import {
  formatReport,
  runSmokeChecks,
  type SmokeReport,
} from '../../../scripts/azd/smoke-test/checks';
import { cleanEnv, NodeProcess, ROOT, script } from '../../support/node-process';

/**
 * The smoke checks against the real local stack, as `npm start` runs it: the identity stand-in,
 * the built-in function host (a child process running the compiled app) and the local gateway
 * running the APIM files. The same checks run after `azd up` against Azure.
 */

const KEY = crypto.randomBytes(24).toString('base64url');
const IDENTITY_HEADER = crypto.randomBytes(24).toString('base64url');

let identity: IdentityServer;
let host: NodeProcess;
let hostUrl: string;
let gateway: RunningGateway;
let report: SmokeReport;

beforeAll(async () => {
  identity = await startIdentityServer({ identityHeader: IDENTITY_HEADER, log: () => undefined });
  // The gateway's ManagedIdentityCredential reads these, as on App Service.
  process.env.IDENTITY_ENDPOINT = identity.urls.managedIdentityEndpoint('apim');
  process.env.IDENTITY_HEADER = IDENTITY_HEADER;
  host = new NodeProcess(
    script('local/host/main'),
    [],
    cleanEnv({ PORT: '0', ...localFunctionAppSettings(identity.url) }),
  );
  hostUrl = (await host.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/, 20_000))[1]!;
  gateway = await startGateway({
    port: 0,
    apimDir: path.join(ROOT, 'apim'),
    functionsBaseUrl: hostUrl,
    subscriptionKey: KEY,
    log: () => undefined,
  });
  report = await runSmokeChecks(
    {
      gatewayUrl: gateway.url,
      apiPath: 'api',
      functionUrl: hostUrl,
      subscriptionKey: KEY,
      expectedObjectId: APIM_IDENTITY.objectId,
      role: APP_ROLE,
    },
    { propagationTimeoutMs: 0 },
  );
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  await host?.stop();
  await identity?.close();
});

describe('smoke checks against the local stack', () => {
  it('pass, every one', () => {
    expect(report.results.filter((r) => !r.ok)).toEqual([]);
    expect(report.results).toHaveLength(8);
  });

  it("note that built-in errors get the API's on-error problem, as the local gateway models them", () => {
    expect(report.findings.join(' ')).toContain(
      'apim-builtin-errors-use-on-error: no key, a wrong key and no such operation get 401, 401, 404',
    );
  });

  it('find that locally the function code alone refuses direct calls (no App Service Authentication)', () => {
    expect(report.findings.join(' ')).toContain('the function code is the only layer');
  });

  it('never print the subscription key', () => {
    expect(formatReport(report).join('\n')).not.toContain(KEY);
    expect(host.output).not.toContain(KEY);
  });
});
