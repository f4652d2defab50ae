/**
 * The two production switches, NETWORK_ISOLATION and APIM_IDENTITY, through the compiled template
 * and the ARM evaluator, under each of their four combinations: the properties that make each
 * claim of docs/deployment.md true, and that each switch changes nothing else.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, useCompiledTemplate } from '../support/bicep';
import { schemaErrors } from '../apim/policy-checks';
import type { Json, SimulatedDeployment, SimulatedResource } from './arm';
import { AZD_ENV, appSettings, deploy, prop, resourcesOfType, single } from './deployment';

const compiled = useCompiledTemplate();

const COMBINATIONS = {
  default: {},
  isolated: { NETWORK_ISOLATION: 'true' },
  userAssigned: { APIM_IDENTITY: 'userAssigned' },
  both: { NETWORK_ISOLATION: 'true', APIM_IDENTITY: 'userAssigned' },
} as const;
type Combination = keyof typeof COMBINATIONS;

const cache = new Map<Combination, SimulatedDeployment>();
function deployed(ctx: Parameters<typeof compiled>[0], combination: Combination) {
  const { template } = compiled(ctx);
  let deployment = cache.get(combination);
  if (deployment === undefined) {
    deployment = deploy(template, { ...AZD_ENV, ...COMBINATIONS[combination] });
    cache.set(combination, deployment);
  }
  return deployment;
}

const readPolicy = (...segments: string[]) =>
  fs.readFileSync(path.join(ROOT, 'apim', 'policies', ...segments), 'utf8');

function parts(deployment: SimulatedDeployment) {
  const apim = single(deployment, 'Microsoft.ApiManagement/service');
  const site = single(deployment, 'Microsoft.Web/sites');
  const auth = single(deployment, 'Microsoft.Web/sites/config', `${site.name}/authsettingsV2`);
  const policy = single(
    deployment,
    'Microsoft.ApiManagement/service/apis/policies',
    `${apim.name}/functions/policy`,
  );
  const namedValues = new Map(
    resourcesOfType(deployment, 'Microsoft.ApiManagement/service/namedValues').map((nv) => [
      nv.name.slice(apim.name.length + 1),
      nv,
    ]),
  );
  const authorization = prop(
    auth,
    'identityProviders',
    'azureActiveDirectory',
    'validation',
    'defaultAuthorizationPolicy',
  ) as Record<string, Json>;
  return { apim, site, policy, namedValues, authorization, settings: appSettings(site) };
}

/** Paths (`properties.siteConfig.x`) where two values differ; arrays compare as a whole. */
function differences(a: Json | undefined, b: Json | undefined, at = ''): string[] {
  const isRecord = (v: Json | undefined): v is Record<string, Json> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isRecord(a) && isRecord(b)) {
    return [...new Set([...Object.keys(a), ...Object.keys(b)])].flatMap((key) =>
      differences(a[key], b[key], at === '' ? key : `${at}.${key}`),
    );
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [at];
}

function resourceDifferences(from: SimulatedDeployment, to: SimulatedDeployment) {
  const toById = new Map(to.resources.map((r) => [r.id, r]));
  const fromIds = new Set(from.resources.map((r) => r.id));
  const view = (r: SimulatedResource) =>
    ({ ...r, key: null, modulePath: r.modulePath as string[] }) as unknown as Json;
  const changed: Record<string, string[]> = {};
  for (const resource of from.resources) {
    const other = toById.get(resource.id);
    if (other === undefined) {
      changed[`${resource.type} (removed)`] = [];
      continue;
    }
    const paths = differences(view(resource), view(other));
    if (paths.length > 0) changed[resource.type] = paths.sort();
  }
  const added = to.resources.filter((r) => !fromIds.has(r.id)).map((r) => r.type);
  return { changed, added: added.sort() };
}

describe('main.parameters.json maps the switches with their defaults', () => {
  it('NETWORK_ISOLATION unset is false and APIM_IDENTITY unset is systemAssigned; any other value stops the deployment', (ctx) => {
    const { template } = compiled(ctx);
    const declared = template.parameters as Record<string, { defaultValue?: unknown }>;
    expect(declared.networkIsolation?.defaultValue).toBe('false');
    expect(declared.apimIdentity?.defaultValue).toBe('systemAssigned');
    expect(() => deploy(template, { ...AZD_ENV, NETWORK_ISOLATION: 'yes' })).toThrow(
      /Parameter 'networkIsolation': "yes" is not one of/,
    );
    expect(() => deploy(template, { ...AZD_ENV, APIM_IDENTITY: 'both' })).toThrow(
      /Parameter 'apimIdentity': "both" is not one of/,
    );
  });
});

describe('an empty switch is the default (azd envsubst: `${VAR=default}` also replaces an empty value)', () => {
  it('NETWORK_ISOLATION="" and APIM_IDENTITY="" deploy exactly the default', (ctx) => {
    const { template } = compiled(ctx);
    const empty = deploy(template, { ...AZD_ENV, NETWORK_ISOLATION: '', APIM_IDENTITY: '' });
    expect(resourceDifferences(deployed(ctx, 'default'), empty)).toEqual({
      changed: {},
      added: [],
    });
  });
});

describe('each switch changes only what it must', () => {
  it('NETWORK_ISOLATION=true: API Management tier and subnet, the site access restrictions; adds the network', (ctx) => {
    const diff = resourceDifferences(deployed(ctx, 'default'), deployed(ctx, 'isolated'));
    expect(diff.changed).toEqual({
      'Microsoft.ApiManagement/service': [
        'properties.virtualNetworkConfiguration',
        'properties.virtualNetworkType',
        'sku.capacity',
        'sku.name',
      ],
      'Microsoft.Web/sites': [
        'properties.siteConfig.ipSecurityRestrictions',
        'properties.siteConfig.ipSecurityRestrictionsDefaultAction',
        'properties.siteConfig.scmIpSecurityRestrictionsDefaultAction',
        'properties.siteConfig.scmIpSecurityRestrictionsUseMain',
      ],
    });
    expect(diff.added).toEqual([
      'Microsoft.Network/networkSecurityGroups',
      'Microsoft.Network/virtualNetworks',
    ]);
  });

  it('APIM_IDENTITY=userAssigned: the identity of API Management, the caller checks and the policy; adds the identity and a named value', (ctx) => {
    const diff = resourceDifferences(deployed(ctx, 'default'), deployed(ctx, 'userAssigned'));
    expect(diff.changed).toEqual({
      'Microsoft.ApiManagement/service': ['identity.type', 'identity.userAssignedIdentities'],
      'Microsoft.ApiManagement/service/apis/policies': ['properties.value'],
      // The gateway's telemetry goes out with the user-assigned identity, which gets the
      // Monitoring Metrics Publisher role instead of the system-assigned one (the assignment's
      // name is derived from the principal, so it is a new one).
      'Microsoft.ApiManagement/service/loggers': ['properties.credentials.identityClientId'],
      'Microsoft.Authorization/roleAssignments (removed)': [],
      'Microsoft.Web/sites': ['properties.siteConfig.appSettings'],
      'Microsoft.Web/sites/config': [
        'properties.identityProviders.azureActiveDirectory.validation.defaultAuthorizationPolicy.allowedApplications',
        'properties.identityProviders.azureActiveDirectory.validation.defaultAuthorizationPolicy.allowedPrincipals.identities',
      ],
    });
    expect(diff.added).toEqual([
      'Microsoft.ApiManagement/service/namedValues',
      'Microsoft.Authorization/roleAssignments',
      'Microsoft.ManagedIdentity/userAssignedIdentities',
    ]);
  });

  it('both switches together are the sum of the two', (ctx) => {
    const one = resourceDifferences(deployed(ctx, 'default'), deployed(ctx, 'isolated'));
    const other = resourceDifferences(deployed(ctx, 'default'), deployed(ctx, 'userAssigned'));
    const both = resourceDifferences(deployed(ctx, 'default'), deployed(ctx, 'both'));
    expect(both.added).toEqual([...one.added, ...other.added].sort());
    const merged: Record<string, string[]> = {};
    for (const [type, paths] of [...Object.entries(one.changed), ...Object.entries(other.changed)])
      merged[type] = [...(merged[type] ?? []), ...paths].sort();
    expect(both.changed).toEqual(merged);
  });
});

describe('default (both switches off): as before the switches existed', () => {
  it('Consumption tier, system-assigned identity, no network, a public Function App, no client id anywhere', (ctx) => {
    const deployment = deployed(ctx, 'default');
    const { apim, site, policy, namedValues, authorization, settings } = parts(deployment);
    expect(apim.sku).toEqual({ name: 'Consumption', capacity: 0 });
    expect(apim.identity).toEqual({ type: 'SystemAssigned' });
    expect(prop(apim, 'virtualNetworkConfiguration')).toBeUndefined();
    expect(resourcesOfType(deployment, 'Microsoft.Network/virtualNetworks')).toEqual([]);
    expect(
      resourcesOfType(deployment, 'Microsoft.ManagedIdentity/userAssignedIdentities').map(
        (r) => r.name,
      ),
    ).not.toContainEqual(expect.stringMatching(/^id-apim-/));
    expect(prop(site, 'siteConfig', 'ipSecurityRestrictions')).toBeUndefined();
    expect(prop(site, 'siteConfig', 'ipSecurityRestrictionsDefaultAction')).toBeUndefined();
    expect(prop(policy, 'value')).toBe(readPolicy('api.xml'));
    expect([...namedValues.keys()]).toEqual(['api-app-client-id']);
    expect(settings).not.toHaveProperty('AUTH_ALLOWED_CLIENT_IDS');
    expect(authorization).toEqual({
      allowedPrincipals: { identities: [deployment.runtime(apim.id).identityPrincipalId] },
    });
  });
});

describe('NETWORK_ISOLATION=true: only API Management reaches the Function App', () => {
  for (const combination of ['isolated', 'both'] as const) {
    it(`${combination}: API Management is Standard v2, integrated with a subnet delegated to Microsoft.Web/serverFarms with the Microsoft.Web service endpoint`, (ctx) => {
      const deployment = deployed(ctx, combination);
      const { apim } = parts(deployment);
      expect(apim.sku).toEqual({ name: 'StandardV2', capacity: 1 });
      expect(prop(apim, 'virtualNetworkType')).toBe('External');
      const network = single(deployment, 'Microsoft.Network/virtualNetworks');
      const nsg = single(deployment, 'Microsoft.Network/networkSecurityGroups');
      const subnets = prop(network, 'subnets') as { name: string; properties: Json }[];
      expect(subnets).toHaveLength(1);
      const subnet = subnets[0]!;
      const subnetId = `${network.id}/subnets/${subnet.name}`;
      expect(prop(apim, 'virtualNetworkConfiguration')).toEqual({ subnetResourceId: subnetId });
      expect(subnet.properties).toEqual({
        addressPrefix: expect.stringMatching(/\/(2[0-7])$/) as unknown,
        delegations: [
          {
            name: expect.any(String) as unknown,
            properties: { serviceName: 'Microsoft.Web/serverFarms' },
          },
        ],
        serviceEndpoints: [{ service: 'Microsoft.Web' }],
        networkSecurityGroup: { id: nsg.id },
      });
      // Outbound integration requires the network in API Management's region.
      expect(network.location).toBe(apim.location);
    });

    it(`${combination}: the site denies everything but that subnet (App Service access restrictions, before Easy Auth and the code)`, (ctx) => {
      const deployment = deployed(ctx, combination);
      const { site } = parts(deployment);
      const network = single(deployment, 'Microsoft.Network/virtualNetworks');
      const subnetName = (prop(network, 'subnets') as { name: string }[])[0]!.name;
      expect(prop(site, 'siteConfig', 'ipSecurityRestrictionsDefaultAction')).toBe('Deny');
      expect(prop(site, 'siteConfig', 'ipSecurityRestrictions')).toEqual([
        {
          name: 'api-management',
          description: expect.any(String) as unknown,
          action: 'Allow',
          priority: 100,
          vnetSubnetResourceId: `${network.id}/subnets/${subnetName}`,
        },
      ]);
      // Access restrictions apply to public traffic: public access stays on, the rules decide.
      expect(prop(site, 'publicNetworkAccess')).toBe('Enabled');
    });

    it(`${combination}: the SCM (deployment) site keeps its own rules: open to deployers, who need Entra ID (basic auth off)`, (ctx) => {
      const deployment = deployed(ctx, combination);
      const { site } = parts(deployment);
      expect(prop(site, 'siteConfig', 'scmIpSecurityRestrictionsUseMain')).toBe(false);
      expect(prop(site, 'siteConfig', 'scmIpSecurityRestrictionsDefaultAction')).toBe('Allow');
      expect(prop(site, 'siteConfig', 'scmIpSecurityRestrictions')).toBeUndefined();
      for (const name of ['ftp', 'scm']) {
        const policy = single(
          deployment,
          'Microsoft.Web/sites/basicPublishingCredentialsPolicies',
          `${site.name}/${name}`,
        );
        expect(prop(policy, 'allow'), name).toBe(false);
      }
    });
  }
});

describe('APIM_IDENTITY=userAssigned: the caller is named by its client id too', () => {
  for (const combination of ['userAssigned', 'both'] as const) {
    it(`${combination}: API Management uses a user-assigned identity deployed on its own (its lifetime is not API Management's)`, (ctx) => {
      const deployment = deployed(ctx, combination);
      const { apim } = parts(deployment);
      const identities = resourcesOfType(
        deployment,
        'Microsoft.ManagedIdentity/userAssignedIdentities',
      ).filter((r) => r.name.startsWith('id-apim-'));
      expect(identities).toHaveLength(1);
      const identity = identities[0]!;
      expect(apim.identity).toEqual({
        type: 'UserAssigned',
        userAssignedIdentities: { [identity.id]: {} },
      });
      // Not a child of the service and not in its deployment: deleting or recreating API
      // Management leaves the identity, and so the app role granted to its principal.
      expect(identity.id).not.toContain('Microsoft.ApiManagement');
      expect(identity.modulePath).toEqual(['apim-identity']);
      expect(apim.modulePath).toEqual(['apim']);
    });

    it(`${combination}: the policy names the identity's client id through a named value; Easy Auth and the code admit that client id and principal`, (ctx) => {
      const deployment = deployed(ctx, combination);
      const { policy, namedValues, authorization, settings, apim } = parts(deployment);
      const identity = resourcesOfType(
        deployment,
        'Microsoft.ManagedIdentity/userAssignedIdentities',
      ).find((r) => r.name.startsWith('id-apim-'))!;
      const { clientId, principalId } = deployment.runtime(identity.id);
      expect(prop(policy, 'value')).toBe(readPolicy('user-assigned-identity', 'api.xml'));
      const namedValue = namedValues.get('apim-identity-client-id');
      expect(namedValue && prop(namedValue, 'value')).toBe(clientId);
      expect(namedValue && prop(namedValue, 'secret')).toBe(false);
      expect(policy.dependsOn).toContain(namedValue?.id);
      expect(settings.AUTH_ALLOWED_CLIENT_IDS).toBe(clientId);
      expect(settings.AUTH_ALLOWED_CALLER_OBJECT_IDS).toBe(principalId);
      expect(authorization).toEqual({
        allowedPrincipals: { identities: [principalId] },
        allowedApplications: [clientId],
      });
      // The postprovision hook grants the app role to APIM_PRINCIPAL_ID: the identity's principal.
      expect(deployment.outputs.APIM_PRINCIPAL_ID).toBe(principalId);
      expect(deployment.runtime(apim.id).identityPrincipalId).toBeUndefined();
    });

    it(`${combination}: the gateway's telemetry goes out with that identity, which holds Monitoring Metrics Publisher on Application Insights`, (ctx) => {
      const deployment = deployed(ctx, combination);
      const identity = resourcesOfType(
        deployment,
        'Microsoft.ManagedIdentity/userAssignedIdentities',
      ).find((r) => r.name.startsWith('id-apim-'))!;
      const { clientId, principalId } = deployment.runtime(identity.id);
      const logger = single(deployment, 'Microsoft.ApiManagement/service/loggers');
      expect(prop(logger, 'credentials', 'identityClientId')).toBe(clientId);
      const publishers = resourcesOfType(deployment, 'Microsoft.Authorization/roleAssignments')
        .filter((r) => {
          const role = prop(r, 'roleDefinitionId');
          return typeof role === 'string' && role.endsWith('3913510d-42f4-4e42-8a64-420c390055eb');
        })
        .map((r) => prop(r, 'principalId'));
      expect(publishers).toContain(principalId);
    });
  }
});

describe('apim/policies/user-assigned-identity/api.xml', () => {
  const variant = readPolicy('user-assigned-identity', 'api.xml');
  const base = readPolicy('api.xml');
  const element = '<authentication-managed-identity resource="{{api-app-client-id}}"';

  it('is api.xml with client-id="{{apim-identity-client-id}}", after one opening comment, and nothing else', () => {
    const opening = /^<!--[\s\S]*?-->\n/.exec(variant);
    expect(opening).not.toBeNull();
    expect(base).toContain(`${element} />`);
    expect(variant.slice(opening![0].length)).toBe(
      base.replace(`${element} />`, `${element} client-id="{{apim-identity-client-id}}" />`),
    );
  });

  it('is valid against the policy schemas', async () => {
    expect(await schemaErrors(variant, 'user-assigned-identity/api.xml')).toEqual([]);
  });
});
