/**
 * The compiled template "deployed" offline (see arm.ts) the way azd deploys it: the parameters
 * come from infra/main.parameters.json resolved as azd does (test/azd/model/parameters.ts).
 */
import type { TestContext } from 'vitest';
import { parametersFile, resolveParameters } from '../azd/model/parameters';
import { useCompiledTemplate } from '../support/bicep';
import {
  simulateDeployment,
  type Json,
  type SimulatedDeployment,
  type SimulatedResource,
} from './arm';

export const TENANT_ID = '72f988bf-0000-4000-8000-00000000000a';
export const SUBSCRIPTION_ID = '0b1f6471-0000-4000-8000-00000000000b';
export const API_APP_CLIENT_ID = '5e2b7f10-1234-4abc-9def-0123456789ab';
export const API_APP_ROLE = 'Api.Invoke';

/** The azd environment after the preprovision hook ran. */
export const AZD_ENV: Readonly<Record<string, string>> = {
  AZURE_ENV_NAME: 'fbapim-test',
  AZURE_LOCATION: 'swedencentral',
  API_APP_CLIENT_ID,
  API_APP_ROLE,
};

/** The parameters azd keeps from main.parameters.json for this environment (unset ones dropped). */
export function parametersFor(env: Readonly<Record<string, string>>): Record<string, Json> {
  return resolveParameters(parametersFile(), env);
}

export function deploy(
  template: unknown,
  env: Readonly<Record<string, string>> = AZD_ENV,
): SimulatedDeployment {
  return simulateDeployment(template, parametersFor(env), {
    subscriptionId: SUBSCRIPTION_ID,
    tenantId: TENANT_ID,
    deploymentLocation: env.AZURE_LOCATION ?? 'swedencentral',
  });
}

/** Registers the compile step; the accessor returns the template and one simulated deployment. */
export function useDeployment(): (ctx: TestContext) => {
  template: Record<string, unknown>;
  deployment: SimulatedDeployment;
} {
  const compiled = useCompiledTemplate();
  let cached: { template: Record<string, unknown>; deployment: SimulatedDeployment } | undefined;
  return (ctx) => {
    const { template } = compiled(ctx);
    cached ??= { template, deployment: deploy(template) };
    return cached;
  };
}

export function resourcesOfType(
  deployment: SimulatedDeployment,
  type: string,
): SimulatedResource[] {
  return deployment.resources.filter((r) => r.type.toLowerCase() === type.toLowerCase());
}

/** The one resource of `type` (and name, when given); fails if there are none or several. */
export function single(
  deployment: SimulatedDeployment,
  type: string,
  name?: string,
): SimulatedResource {
  const found = resourcesOfType(deployment, type).filter(
    (r) => name === undefined || r.name === name,
  );
  if (found.length !== 1) {
    throw new Error(
      `Expected one ${type}${name === undefined ? '' : ` named ${name}`}, found ${found.length}`,
    );
  }
  return found[0]!;
}

/** `properties.<path>` of a resource, e.g. `prop(site, 'siteConfig', 'minTlsVersion')`. */
export function prop(resource: SimulatedResource, ...keys: string[]): Json | undefined {
  let value: Json | undefined = resource.properties;
  for (const key of keys) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
    value = value[key];
  }
  return value;
}

export function appSettings(site: SimulatedResource): Record<string, string> {
  const list = prop(site, 'siteConfig', 'appSettings');
  if (!Array.isArray(list)) throw new Error('The site has no siteConfig.appSettings');
  const settings: Record<string, string> = {};
  for (const item of list as { name: string; value: string }[]) {
    if (item.name in settings) throw new Error(`App setting ${item.name} is defined twice`);
    settings[item.name] = item.value;
  }
  return settings;
}
