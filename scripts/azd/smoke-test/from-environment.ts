/** The smoke test as azd runs it: its inputs from the azd environment, the key from ARM. */
import type { TokenCredential } from '@azure/identity';
import { optionalValue, requireValues, type AzdValues } from '../shared/azd-env';
import { deployerCredential } from '../shared/credential';
import { parseServiceEndpoint } from '../shared/endpoint';
import { HookError } from '../shared/errors';
import { formatReport, runSmokeChecks } from './checks';
import { getSubscriptionKey } from './subscription-key';

export interface SmokeEnvironmentDeps {
  readonly credential?: TokenCredential;
  readonly fetch?: typeof fetch;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
  readonly out?: (line: string) => void;
}

function timeoutFrom(values: AzdValues): number {
  const raw = optionalValue(values, 'SMOKE_TEST_TIMEOUT_SECONDS');
  if (raw === undefined) {
    return 600_000;
  }
  if (!/^\d+$/.test(raw) || Number(raw) > 3600) {
    throw new HookError(
      'invalid_setting',
      'SMOKE_TEST_TIMEOUT_SECONDS must be a whole number of seconds, at most 3600.',
    );
  }
  return Number(raw) * 1000;
}

/**
 * The smoke test as azd runs it: inputs from the azd environment (Bicep outputs), the key from
 * Azure Resource Manager. Returns the process exit code.
 */
export async function smokeTestFromEnvironment(
  values: AzdValues,
  deps: SmokeEnvironmentDeps = {},
): Promise<number> {
  const out = deps.out ?? ((line: string) => console.log(line));
  const settings = requireValues(
    values,
    'The smoke test',
    [
      'APIM_GATEWAY_URL',
      'APIM_API_PATH',
      'FUNCTION_APP_URL',
      'APIM_SUBSCRIPTION_RESOURCE_ID',
      'APIM_PRINCIPAL_ID',
      'API_APP_ROLE',
    ],
    'They are outputs of `azd provision` and hooks: deploy with `azd up` first. `npm run smoke-test` ' +
      'reads the current azd environment (`azd env get-values`); environment variables override it.',
  );
  parseServiceEndpoint('APIM_GATEWAY_URL', settings.APIM_GATEWAY_URL);
  parseServiceEndpoint('FUNCTION_APP_URL', settings.FUNCTION_APP_URL);
  const propagationTimeoutMs = timeoutFrom(values);
  const subscriptionKey = await getSubscriptionKey({
    resourceId: settings.APIM_SUBSCRIPTION_RESOURCE_ID,
    credential: deps.credential ?? deployerCredential(optionalValue(values, 'AZURE_TENANT_ID')),
    armEndpoint: optionalValue(values, 'ARM_ENDPOINT'),
    fetch: deps.fetch,
    sleep: deps.sleep,
  });
  out(`Smoke test of ${settings.APIM_GATEWAY_URL} and ${settings.FUNCTION_APP_URL}`);
  const report = await runSmokeChecks(
    {
      gatewayUrl: settings.APIM_GATEWAY_URL,
      apiPath: settings.APIM_API_PATH,
      functionUrl: settings.FUNCTION_APP_URL,
      subscriptionKey,
      expectedObjectId: settings.APIM_PRINCIPAL_ID,
      role: settings.API_APP_ROLE,
    },
    {
      fetch: deps.fetch,
      sleep: deps.sleep,
      now: deps.now,
      propagationTimeoutMs,
      log: out,
      networkIsolation: optionalValue(values, 'NETWORK_ISOLATION')?.toLowerCase() === 'true',
    },
  );
  for (const line of formatReport(report)) {
    out(line);
  }
  return report.ok ? 0 : 1;
}
