/**
 * infra/main.bicep as azd uses it: parameters from main.parameters.json, the resource group and
 * names, and the outputs that become azd environment values (exactly these, none secret).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/bicep';
import { missingParameters, parametersFile, resolveParameters } from '../azd/model/parameters';
import { AZD_ENV, TENANT_ID, deploy, parametersFor, single, useDeployment } from './deployment';

const deployed = useDeployment();

/** The azd contract: what the hooks, the smoke test and the README read. */
const EXPECTED_OUTPUTS = [
  'AZURE_LOCATION',
  'AZURE_TENANT_ID',
  'AZURE_RESOURCE_GROUP',
  'FUNCTION_APP_NAME',
  'FUNCTION_APP_URL',
  'APIM_NAME',
  'APIM_GATEWAY_URL',
  'APIM_API_PATH',
  'APIM_PRINCIPAL_ID',
  'APIM_SUBSCRIPTION_RESOURCE_ID',
];

describe('main.parameters.json', () => {
  it('maps exactly the azd values AZURE_ENV_NAME, AZURE_LOCATION, API_APP_CLIENT_ID, API_APP_ROLE, ALERT_EMAIL and the two switches', () => {
    const text = fs.readFileSync(path.join(ROOT, 'infra', 'main.parameters.json'), 'utf8');
    expect([...text.matchAll(/\$\{([A-Z0-9_]+)(=[^}]*)?\}/g)].map((m) => m[1]).sort()).toEqual(
      [
        'ALERT_EMAIL',
        'API_APP_CLIENT_ID',
        'API_APP_ROLE',
        'APIM_IDENTITY',
        'AZURE_ENV_NAME',
        'AZURE_LOCATION',
        'NETWORK_ISOLATION',
      ].sort(),
    );
    expect(parametersFor(AZD_ENV)).toEqual({
      environmentName: AZD_ENV.AZURE_ENV_NAME,
      location: AZD_ENV.AZURE_LOCATION,
      apiAppClientId: AZD_ENV.API_APP_CLIENT_ID,
      apiAppRole: AZD_ENV.API_APP_ROLE,
      // Unset switches take the defaults written in the file (azd's envsubst `${VAR=default}`).
      networkIsolation: 'false',
      apimIdentity: 'systemAssigned',
    });
  });

  it('names only parameters that main.bicep declares, and every one without a default', (ctx) => {
    const { template } = deployed(ctx);
    const declared = template.parameters as Record<string, { defaultValue?: unknown }>;
    const mapped = Object.keys(parametersFor(AZD_ENV));
    for (const name of mapped) expect(Object.keys(declared)).toContain(name);
    const required = Object.entries(declared)
      .filter(([, p]) => !('defaultValue' in p))
      .map(([name]) => name);
    for (const name of required) expect(mapped).toContain(name);
  });

  it('leaves azd nothing to prompt for on a first run: the hook values have defaults', (ctx) => {
    // azd resolves the parameters, and prompts for any without a value and a default, before
    // the preprovision hook runs: API_APP_CLIENT_ID and API_APP_ROLE are unset then.
    const { template } = deployed(ctx);
    const firstRun = { AZURE_ENV_NAME: 'dev', AZURE_LOCATION: 'swedencentral' };
    expect(missingParameters(template, resolveParameters(parametersFile(), firstRun))).toEqual([]);
  });
});

describe('parameter validation (a deployment without the hook values stops, naming them)', () => {
  it('fails when API_APP_CLIENT_ID is unset (azd drops the parameter: the default is empty)', (ctx) => {
    const { template } = deployed(ctx);
    const { API_APP_CLIENT_ID: _, ...withoutClientId } = AZD_ENV;
    expect(() => deploy(template, withoutClientId)).toThrow(
      /^apiAppClientId \(azd value API_APP_CLIENT_ID\) must be the 36-character client id.*got ""/,
    );
  });

  it('fails when API_APP_CLIENT_ID is not GUID-sized', (ctx) => {
    const { template } = deployed(ctx);
    expect(() => deploy(template, { ...AZD_ENV, API_APP_CLIENT_ID: 'api://something' })).toThrow(
      /API_APP_CLIENT_ID.*got "api:\/\/something"/,
    );
  });

  it('fails when API_APP_ROLE is empty or unset', (ctx) => {
    const { template } = deployed(ctx);
    const { API_APP_ROLE: _, ...withoutRole } = AZD_ENV;
    for (const env of [{ ...AZD_ENV, API_APP_ROLE: '' }, withoutRole]) {
      expect(() => deploy(template, env)).toThrow(
        /^apiAppRole \(azd value API_APP_ROLE\) is empty/,
      );
    }
  });

  it('describes every parameter of main.bicep and of every module the AVM way', (ctx) => {
    const { template } = deployed(ctx);
    const templates: [string, Record<string, unknown>][] = [['main', template]];
    const resources = template.resources as Record<
      string,
      { type: string; properties: { template: Record<string, unknown> } }
    >;
    for (const [key, resource] of Object.entries(resources)) {
      if (resource.type === 'Microsoft.Resources/deployments') {
        templates.push([key, resource.properties.template]);
      }
    }
    expect(templates.length).toBeGreaterThan(5);
    for (const [where, t] of templates) {
      const parameters = Object.entries(
        (t.parameters ?? {}) as Record<string, { metadata?: { description?: string } }>,
      );
      for (const [name, p] of parameters) {
        expect(p.metadata?.description, `${where}: ${name}`).toMatch(
          /^(Required|Optional|Conditional)\. /,
        );
      }
      const outputs = Object.entries(
        (t.outputs ?? {}) as Record<string, { metadata?: { description?: string } }>,
      );
      for (const [name, o] of outputs)
        expect(o.metadata?.description, `${where}: output ${name}`).toMatch(/\S/);
    }
  });
});

describe('resource group and names', () => {
  it('creates one resource group named after the environment, tagged azd-env-name', (ctx) => {
    const { deployment } = deployed(ctx);
    const group = single(deployment, 'Microsoft.Resources/resourceGroups');
    expect(group.name).toBe(`rg-${AZD_ENV.AZURE_ENV_NAME}`);
    expect(group.tags).toEqual({ 'azd-env-name': AZD_ENV.AZURE_ENV_NAME });
    expect(group.location).toBe(AZD_ENV.AZURE_LOCATION);
  });

  it('tags every taggable resource with azd-env-name', (ctx) => {
    const { deployment } = deployed(ctx);
    const tracked = deployment.resources.filter((r) => r.location !== undefined);
    expect(tracked.length).toBeGreaterThan(5);
    for (const resource of tracked) {
      expect(resource.tags['azd-env-name'], resource.id).toBe(AZD_ENV.AZURE_ENV_NAME);
      expect(resource.location, resource.id).toBe(AZD_ENV.AZURE_LOCATION);
    }
  });

  it('derives names deterministically: a rerun updates the same resources, another environment gets others', (ctx) => {
    const { template, deployment } = deployed(ctx);
    const names = (d: typeof deployment) => d.resources.map((r) => r.id).sort();
    expect(names(deploy(template))).toEqual(names(deployment));
    const other = names(deploy(template, { ...AZD_ENV, AZURE_ENV_NAME: 'another-env' }));
    // Role definitions are built-in: their ids are the same in every environment.
    const own = names(deployment).filter((id) => !id.includes('/roleDefinitions/'));
    expect(own.length).toBeGreaterThan(5);
    for (const id of own) expect(other).not.toContain(id);
  });

  it('fits the naming rules of storage (3-24 lower-case alphanumerics) and API Management (1-50)', (ctx) => {
    const { deployment } = deployed(ctx);
    expect(single(deployment, 'Microsoft.Storage/storageAccounts').name).toMatch(
      /^[a-z0-9]{3,24}$/,
    );
    expect(single(deployment, 'Microsoft.ApiManagement/service').name).toMatch(
      /^[a-zA-Z][a-zA-Z0-9-]{0,49}$/,
    );
  });
});

describe('outputs (azd environment values)', () => {
  it('are exactly the contract names', (ctx) => {
    const { template } = deployed(ctx);
    expect(Object.keys(template.outputs as object).sort()).toEqual([...EXPECTED_OUTPUTS].sort());
  });

  it('carry the deployed values', (ctx) => {
    const { deployment } = deployed(ctx);
    const site = single(deployment, 'Microsoft.Web/sites');
    const apim = single(deployment, 'Microsoft.ApiManagement/service');
    const subscription = single(deployment, 'Microsoft.ApiManagement/service/subscriptions');
    expect(deployment.outputs).toEqual({
      AZURE_LOCATION: AZD_ENV.AZURE_LOCATION,
      AZURE_TENANT_ID: TENANT_ID,
      AZURE_RESOURCE_GROUP: `rg-${AZD_ENV.AZURE_ENV_NAME}`,
      FUNCTION_APP_NAME: site.name,
      FUNCTION_APP_URL: `https://${deployment.runtime(site.id).defaultHostName as string}`,
      APIM_NAME: apim.name,
      APIM_GATEWAY_URL: deployment.runtime(apim.id).gatewayUrl,
      APIM_API_PATH: 'api',
      APIM_PRINCIPAL_ID: deployment.runtime(apim.id).identityPrincipalId,
      APIM_SUBSCRIPTION_RESOURCE_ID: subscription.id,
    });
  });

  it('contain no secrets: plain strings, no list*() call anywhere in the template, no secret-like names', (ctx) => {
    const { template } = deployed(ctx);
    for (const [name, output] of Object.entries(
      template.outputs as Record<string, { type: string }>,
    )) {
      expect(output.type, name).toBe('string');
      expect(name).not.toMatch(/KEY|SECRET|PASSWORD|TOKEN|CONNECTION/i);
    }
    // listKeys, listSecrets, listCredentials...: the only way a template can read a key.
    expect(JSON.stringify(template)).not.toMatch(/\blist[A-Za-z]*\(/);
  });

  it('every output is documented', (ctx) => {
    const { template } = deployed(ctx);
    for (const [name, output] of Object.entries(
      template.outputs as Record<string, { metadata?: { description?: string } }>,
    )) {
      expect(output.metadata?.description, name).toMatch(/\S/);
    }
  });
});
