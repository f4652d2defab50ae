/**
 * Security properties of the Function App, its storage, identity, telemetry and App Service
 * Authentication, checked on the compiled template after an offline deployment (deployment.ts).
 */
import { describe, expect, it } from 'vitest';
import { loadAuthConfig } from '../../functions/auth/config';
import { localFunctionAppSettings } from '../../scripts/local/shared/environment';
import {
  API_APP_CLIENT_ID,
  API_APP_ROLE,
  TENANT_ID,
  appSettings,
  prop,
  resourcesOfType,
  single,
  useDeployment,
} from './deployment';
import type { SimulatedDeployment } from './arm';

const deployed = useDeployment();

function parts(deployment: SimulatedDeployment) {
  const site = single(deployment, 'Microsoft.Web/sites');
  const plan = single(deployment, 'Microsoft.Web/serverfarms');
  const storage = single(deployment, 'Microsoft.Storage/storageAccounts');
  const identity = single(deployment, 'Microsoft.ManagedIdentity/userAssignedIdentities');
  const insights = single(deployment, 'Microsoft.Insights/components');
  const apim = single(deployment, 'Microsoft.ApiManagement/service');
  return {
    site,
    plan,
    storage,
    identity,
    insights,
    apim,
    identityRuntime: deployment.runtime(identity.id),
    apimPrincipalId: deployment.runtime(apim.id).identityPrincipalId,
    blobEndpoint: `https://${storage.name}.blob.core.windows.net/`,
    settings: appSettings(site),
  };
}

/** The definition of `name` in the template of the one module (nested deployment) declaring it. */
function moduleParameter(template: unknown, name: string): unknown {
  const found: unknown[] = [];
  const visit = (node: unknown): void => {
    const { parameters, resources } = (node ?? {}) as { parameters?: unknown; resources?: unknown };
    if (typeof parameters === 'object' && parameters !== null && name in parameters) {
      found.push((parameters as Record<string, unknown>)[name]);
    }
    const list = Array.isArray(resources) ? resources : Object.values(resources ?? {});
    for (const resource of list as { properties?: { template?: unknown } }[]) {
      visit(resource.properties?.template);
    }
  };
  visit(template);
  expect(found).toHaveLength(1);
  return found[0];
}

describe('Function App hosting', () => {
  it('runs on a Flex Consumption plan (FC1), Linux', (ctx) => {
    const { site, plan } = parts(deployed(ctx).deployment);
    expect(plan.sku).toEqual({ name: 'FC1', tier: 'FlexConsumption' });
    expect(prop(plan, 'reserved')).toBe(true);
    expect(site.kind).toBe('functionapp,linux');
    expect(prop(site, 'serverFarmId')).toBe(plan.id);
  });

  it('runs Node 22', (ctx) => {
    const { site } = parts(deployed(ctx).deployment);
    expect(prop(site, 'functionAppConfig', 'runtime')).toEqual({ name: 'node', version: '22' });
  });

  // Event-driven scaling in Azure Functions, "Limit scale-out" (learn.microsoft.com, updated
  // 2026-08-03): "the lowest maximum instance count value is 1, and the highest supported maximum
  // instance count value is 1000". The preview and GA pages gave 40 as the lowest.
  it('bounds maximumInstanceCount to the documented 1..1000, 100 by default', (ctx) => {
    const { template, deployment } = deployed(ctx);
    expect(moduleParameter(template, 'maximumInstanceCount')).toEqual({
      type: 'int',
      minValue: 1,
      maxValue: 1000,
      defaultValue: 100,
      metadata: expect.anything() as unknown,
    });
    const { site } = parts(deployment);
    expect(prop(site, 'functionAppConfig', 'scaleAndConcurrency', 'maximumInstanceCount')).toBe(
      100,
    );
  });

  it('is tagged azd-service-name=api, and nothing else is', (ctx) => {
    const { deployment } = deployed(ctx);
    const tagged = deployment.resources.filter((r) => 'azd-service-name' in r.tags);
    expect(tagged.map((r) => [r.type, r.tags['azd-service-name']])).toEqual([
      ['Microsoft.Web/sites', 'api'],
    ]);
  });

  it('runs as the user-assigned identity only', (ctx) => {
    const { site, identity } = parts(deployed(ctx).deployment);
    expect(site.identity).toEqual({
      type: 'UserAssigned',
      userAssignedIdentities: { [identity.id]: {} },
    });
  });
});

describe('Function App transport hardening', () => {
  it('accepts HTTPS only', (ctx) => {
    expect(prop(parts(deployed(ctx).deployment).site, 'httpsOnly')).toBe(true);
  });

  it('sets no ARRAffinity cookie, which names its host and API Management passes through', (ctx) => {
    // Left out, clientAffinityEnabled is on (Azure/azure-functions-host#4044).
    expect(prop(parts(deployed(ctx).deployment).site, 'clientAffinityEnabled')).toBe(false);
  });

  it('requires TLS 1.2 or later on the app', (ctx) => {
    expect(prop(parts(deployed(ctx).deployment).site, 'siteConfig', 'minTlsVersion')).toBe('1.2');
  });

  it('requires TLS 1.2 or later on the SCM (deployment) site', (ctx) => {
    expect(prop(parts(deployed(ctx).deployment).site, 'siteConfig', 'scmMinTlsVersion')).toBe(
      '1.2',
    );
  });

  it('has FTP and FTPS disabled', (ctx) => {
    expect(prop(parts(deployed(ctx).deployment).site, 'siteConfig', 'ftpsState')).toBe('Disabled');
  });

  it('has basic publishing credentials disabled for both ftp and scm', (ctx) => {
    const { deployment } = deployed(ctx);
    const { site } = parts(deployment);
    const policies = resourcesOfType(
      deployment,
      'Microsoft.Web/sites/basicPublishingCredentialsPolicies',
    );
    expect(policies.map((p) => [p.name, prop(p, 'allow')]).sort()).toEqual([
      [`${site.name}/ftp`, false],
      [`${site.name}/scm`, false],
    ]);
  });
});

describe('storage without keys', () => {
  it('the storage account refuses shared key access', (ctx) => {
    expect(prop(parts(deployed(ctx).deployment).storage, 'allowSharedKeyAccess')).toBe(false);
  });

  it('the storage account requires TLS 1.2 and HTTPS', (ctx) => {
    const { storage } = parts(deployed(ctx).deployment);
    expect(prop(storage, 'minimumTlsVersion')).toBe('TLS1_2');
    expect(prop(storage, 'supportsHttpsTrafficOnly')).toBe(true);
  });

  it('the storage account allows no public blob access', (ctx) => {
    const { deployment } = deployed(ctx);
    expect(prop(parts(deployment).storage, 'allowBlobPublicAccess')).toBe(false);
    for (const container of resourcesOfType(
      deployment,
      'Microsoft.Storage/storageAccounts/blobServices/containers',
    )) {
      expect(prop(container, 'publicAccess')).toBe('None');
    }
  });

  it('AzureWebJobsStorage uses the managed identity (credential, client id, blob URI) and no key', (ctx) => {
    const { settings, identityRuntime, blobEndpoint } = parts(deployed(ctx).deployment);
    expect(settings.AzureWebJobsStorage__credential).toBe('managedidentity');
    expect(settings.AzureWebJobsStorage__clientId).toBe(identityRuntime.clientId);
    expect(settings.AzureWebJobsStorage__blobServiceUri).toBe(blobEndpoint);
    expect(settings).not.toHaveProperty('AzureWebJobsStorage');
    for (const [name, value] of Object.entries(settings)) {
      expect(value, name).not.toMatch(/AccountKey=|SharedAccessSignature=|sig=/i);
    }
  });

  it('the deployment package comes from the deployment container, read with the identity', (ctx) => {
    const { deployment } = deployed(ctx);
    const { site, identity, storage, blobEndpoint } = parts(deployment);
    const container = single(
      deployment,
      'Microsoft.Storage/storageAccounts/blobServices/containers',
    );
    const containerName = container.name.split('/')[2];
    expect(container.name).toBe(`${storage.name}/default/${containerName}`);
    expect(prop(site, 'functionAppConfig', 'deployment', 'storage')).toEqual({
      type: 'blobContainer',
      value: `${blobEndpoint}${containerName}`,
      authentication: { type: 'UserAssignedIdentity', userAssignedIdentityResourceId: identity.id },
    });
  });
});

describe('role assignments of the Function App identity', () => {
  it('are exactly Storage Blob Data Owner on the storage account and Monitoring Metrics Publisher on Application Insights', (ctx) => {
    const { deployment } = deployed(ctx);
    const { identityRuntime, storage, insights } = parts(deployment);
    const assignments = resourcesOfType(deployment, 'Microsoft.Authorization/roleAssignments')
      .filter((a) => prop(a, 'principalId') === identityRuntime.principalId)
      .map((a) => ({
        scope: a.scope,
        role: prop(a, 'roleDefinitionId'),
        principalId: prop(a, 'principalId'),
        principalType: prop(a, 'principalType'),
      }));
    expect(assignments).toHaveLength(2);
    expect(assignments).toContainEqual({
      scope: storage.id,
      role: expect.stringMatching(
        /^\/subscriptions\/[^/]+\/providers\/Microsoft.Authorization\/roleDefinitions\/b7e6dc6d-f1e8-4753-8033-0f276bb0955b$/,
      ),
      principalId: identityRuntime.principalId,
      principalType: 'ServicePrincipal',
    });
    expect(assignments).toContainEqual({
      scope: insights.id,
      role: expect.stringMatching(
        /^\/subscriptions\/[^/]+\/providers\/Microsoft.Authorization\/roleDefinitions\/3913510d-42f4-4e42-8a64-420c390055eb$/,
      ),
      principalId: identityRuntime.principalId,
      principalType: 'ServicePrincipal',
    });
  });

  it('are granted before the Function App is created', (ctx) => {
    const { template } = deployed(ctx);
    const resources = template.resources as Record<string, { dependsOn?: string[] }>;
    expect(resources.functionApp?.dependsOn).toContain('rbac');
  });
});

describe('telemetry with Entra ID', () => {
  it('Application Insights has local (key) authentication disabled', (ctx) => {
    expect(prop(parts(deployed(ctx).deployment).insights, 'DisableLocalAuth')).toBe(true);
  });

  it('the app authenticates to Application Insights with its identity', (ctx) => {
    const { deployment } = deployed(ctx);
    const { settings, identityRuntime, insights } = parts(deployment);
    expect(settings.APPLICATIONINSIGHTS_AUTHENTICATION_STRING).toBe(
      `ClientId=${identityRuntime.clientId as string};Authorization=AAD`,
    );
    expect(settings.APPLICATIONINSIGHTS_CONNECTION_STRING).toBe(
      deployment.runtime(insights.id).ConnectionString,
    );
  });

  it('Log Analytics has local authentication disabled', (ctx) => {
    const workspace = single(deployed(ctx).deployment, 'Microsoft.OperationalInsights/workspaces');
    expect(prop(workspace, 'features', 'disableLocalAuth')).toBe(true);
  });
});

describe('AUTH_* app settings (read by functions/auth/config.ts)', () => {
  it('AUTH_TENANT_ID is the deployment tenant', (ctx) => {
    expect(parts(deployed(ctx).deployment).settings.AUTH_TENANT_ID).toBe(TENANT_ID);
  });

  it('AUTH_AUDIENCES is the client id and the api:// App ID URI', (ctx) => {
    expect(parts(deployed(ctx).deployment).settings.AUTH_AUDIENCES).toBe(
      `${API_APP_CLIENT_ID},api://${API_APP_CLIENT_ID}`,
    );
  });

  it("AUTH_ALLOWED_CALLER_OBJECT_IDS is API Management's managed identity, not the app's own", (ctx) => {
    const { settings, apimPrincipalId, identityRuntime } = parts(deployed(ctx).deployment);
    expect(apimPrincipalId).toMatch(/^[0-9a-f-]{36}$/);
    expect(settings.AUTH_ALLOWED_CALLER_OBJECT_IDS).toBe(apimPrincipalId);
    expect(settings.AUTH_ALLOWED_CALLER_OBJECT_IDS).not.toBe(identityRuntime.principalId);
  });

  it('AUTH_REQUIRED_ROLES is the app role', (ctx) => {
    expect(parts(deployed(ctx).deployment).settings.AUTH_REQUIRED_ROLES).toBe(API_APP_ROLE);
  });

  it('AUTH_ISSUERS is only the v2 issuer, the one Easy Auth is configured with', (ctx) => {
    const { deployment } = deployed(ctx);
    const { settings, site } = parts(deployment);
    const auth = single(deployment, 'Microsoft.Web/sites/config', `${site.name}/authsettingsV2`);
    expect(settings.AUTH_ISSUERS).toBe(`https://login.microsoftonline.com/${TENANT_ID}/v2.0`);
    expect(settings.AUTH_ISSUERS).toBe(
      prop(auth, 'identityProviders', 'azureActiveDirectory', 'registration', 'openIdIssuer'),
    );
  });

  it("AUTH_JWKS_URI is the tenant's keys endpoint of this cloud", (ctx) => {
    expect(parts(deployed(ctx).deployment).settings.AUTH_JWKS_URI).toBe(
      `https://login.microsoftonline.com/${TENANT_ID}/discovery/v2.0/keys`,
    );
  });

  it('WEBSITE_AUTH_AAD_ALLOWED_TENANTS is the deployment tenant', (ctx) => {
    expect(parts(deployed(ctx).deployment).settings.WEBSITE_AUTH_AAD_ALLOWED_TENANTS).toBe(
      TENANT_ID,
    );
  });

  it('are accepted by the function code, which then trusts exactly this tenant, audience, caller and role', (ctx) => {
    const { settings, apimPrincipalId } = parts(deployed(ctx).deployment);
    const config = loadAuthConfig(settings);
    expect(config.tenantId).toBe(TENANT_ID);
    expect(config.audiences).toEqual([API_APP_CLIENT_ID, `api://${API_APP_CLIENT_ID}`]);
    expect([...config.allowedCallerObjectIds]).toEqual([apimPrincipalId]);
    expect(config.requiredRoles).toEqual([API_APP_ROLE]);
    expect(config.issuers).toEqual([`https://login.microsoftonline.com/${TENANT_ID}/v2.0`]);
  });

  it('use the same AUTH_* names as the local settings', (ctx) => {
    const { settings } = parts(deployed(ctx).deployment);
    const local = Object.keys(localFunctionAppSettings('http://127.0.0.1:1'));
    for (const name of Object.keys(settings).filter((n) => n.startsWith('AUTH_'))) {
      expect(local, name).toContain(name);
    }
  });

  it('are exactly the settings Flex Consumption allows (no FUNCTIONS_WORKER_RUNTIME etc.)', (ctx) => {
    expect(Object.keys(parts(deployed(ctx).deployment).settings).sort()).toEqual(
      [
        'APPLICATIONINSIGHTS_AUTHENTICATION_STRING',
        'APPLICATIONINSIGHTS_CONNECTION_STRING',
        'AUTH_ALLOWED_CALLER_OBJECT_IDS',
        'AUTH_AUDIENCES',
        'AUTH_ISSUERS',
        'AUTH_JWKS_URI',
        'AUTH_REQUIRED_ROLES',
        'AUTH_TENANT_ID',
        'AzureWebJobsStorage__blobServiceUri',
        'AzureWebJobsStorage__clientId',
        'AzureWebJobsStorage__credential',
        'WEBSITE_AUTH_AAD_ALLOWED_TENANTS',
      ].sort(),
    );
  });
});

describe('App Service Authentication (authsettingsV2)', () => {
  function easyAuth(ctx: Parameters<typeof deployed>[0]) {
    const { deployment } = deployed(ctx);
    const { site, apimPrincipalId } = parts(deployment);
    const auth = single(deployment, 'Microsoft.Web/sites/config', `${site.name}/authsettingsV2`);
    return { auth, apimPrincipalId };
  }

  it('is enabled and requires authentication, answering 401 to anonymous callers', (ctx) => {
    const { auth } = easyAuth(ctx);
    expect(prop(auth, 'platform', 'enabled')).toBe(true);
    expect(prop(auth, 'globalValidation')).toEqual({
      requireAuthentication: true,
      unauthenticatedClientAction: 'Return401',
    });
  });

  it('uses the Entra ID provider for the app registration, with the tenant v2 issuer', (ctx) => {
    const { auth } = easyAuth(ctx);
    expect(prop(auth, 'identityProviders', 'azureActiveDirectory', 'enabled')).toBe(true);
    expect(prop(auth, 'identityProviders', 'azureActiveDirectory', 'registration')).toEqual({
      clientId: API_APP_CLIENT_ID,
      openIdIssuer: `https://login.microsoftonline.com/${TENANT_ID}/v2.0`,
    });
  });

  it('allows the client id and the api:// App ID URI as audiences', (ctx) => {
    const { auth } = easyAuth(ctx);
    expect(
      prop(auth, 'identityProviders', 'azureActiveDirectory', 'validation', 'allowedAudiences'),
    ).toEqual([API_APP_CLIENT_ID, `api://${API_APP_CLIENT_ID}`]);
  });

  it("admits only API Management's managed identity (allowedPrincipals), with no empty allow-list", (ctx) => {
    const { auth, apimPrincipalId } = easyAuth(ctx);
    const policy = prop(
      auth,
      'identityProviders',
      'azureActiveDirectory',
      'validation',
      'defaultAuthorizationPolicy',
    );
    expect(policy).toEqual({ allowedPrincipals: { identities: [apimPrincipalId] } });
  });

  it('keeps no token store and requires HTTPS', (ctx) => {
    const { auth } = easyAuth(ctx);
    expect(prop(auth, 'login', 'tokenStore', 'enabled')).toBe(false);
    expect(prop(auth, 'httpSettings', 'requireHttps')).toBe(true);
  });

  it('uses no client secret', (ctx) => {
    const { auth } = easyAuth(ctx);
    expect(JSON.stringify(auth.properties)).not.toMatch(/clientSecret/i);
  });
});
