/**
 * API Management in the compiled template: tier and identity, the backend, the API imported from
 * apim/, the policies loaded verbatim from apim/policies, named values and the product.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defined } from '../support/assert';
import { ROOT } from '../support/bicep';
import { API_APP_CLIENT_ID, prop, resourcesOfType, single, useDeployment } from './deployment';
import type { SimulatedDeployment } from './arm';

const deployed = useDeployment();

const POLICY_DIR = path.join(ROOT, 'apim', 'policies');
const policyFiles = fs
  .readdirSync(POLICY_DIR)
  .filter((file) => file.endsWith('.xml'))
  .sort();
const readApim = (...segments: string[]) =>
  fs.readFileSync(path.join(ROOT, 'apim', ...segments), 'utf8');

/** `{{name}}` references of a policy document (comments included: a named value in a comment is still resolved). */
function namedValueReferences(xml: string): string[] {
  return [...new Set([...xml.matchAll(/\{\{([^{}]+)\}\}/g)].map((m) => m[1]!.trim()))].sort();
}

function apimParts(deployment: SimulatedDeployment) {
  const service = single(deployment, 'Microsoft.ApiManagement/service');
  const site = single(deployment, 'Microsoft.Web/sites');
  const api = single(deployment, 'Microsoft.ApiManagement/service/apis');
  return {
    service,
    api,
    functionHost: deployment.runtime(site.id).defaultHostName as string,
    child: (type: string, name: string) =>
      single(deployment, `Microsoft.ApiManagement/service/${type}`, `${service.name}/${name}`),
  };
}

describe('API Management service', () => {
  it('is on the Consumption tier', (ctx) => {
    const { service } = apimParts(deployed(ctx).deployment);
    expect(service.sku).toEqual({ name: 'Consumption', capacity: 0 });
  });

  it('has a system-assigned managed identity (the identity it calls the Function App with)', (ctx) => {
    const { service } = apimParts(deployed(ctx).deployment);
    expect(service.identity).toEqual({ type: 'SystemAssigned' });
  });

  it('has a publisher email and name', (ctx) => {
    const { service } = apimParts(deployed(ctx).deployment);
    expect(prop(service, 'publisherEmail')).toMatch(/^[^@\s]+@[^@\s]+\.[a-z]+$/);
    expect(prop(service, 'publisherName')).not.toBe('');
  });
});

describe('the API', () => {
  it('is served under the path api', (ctx) => {
    expect(prop(apimParts(deployed(ctx).deployment).api, 'path')).toBe('api');
  });

  it('accepts HTTPS only', (ctx) => {
    expect(prop(apimParts(deployed(ctx).deployment).api, 'protocols')).toEqual(['https']);
  });

  it('requires a subscription', (ctx) => {
    expect(prop(apimParts(deployed(ctx).deployment).api, 'subscriptionRequired')).toBe(true);
  });

  it('is imported from apim/openapi.yaml as it is', (ctx) => {
    const { api } = apimParts(deployed(ctx).deployment);
    expect(prop(api, 'format')).toBe('openapi');
    expect(prop(api, 'value')).toBe(readApim('openapi.yaml'));
  });

  it('points at the Function App over HTTPS', (ctx) => {
    const { api, functionHost } = apimParts(deployed(ctx).deployment);
    expect(prop(api, 'serviceUrl')).toBe(`https://${functionHost}/api`);
  });
});

describe('the Function App backend', () => {
  it('is named function-app and targets https://<function host>/api', (ctx) => {
    const { child, functionHost } = apimParts(deployed(ctx).deployment);
    const backend = child('backends', 'function-app');
    expect(prop(backend, 'url')).toBe(`https://${functionHost}/api`);
    expect(prop(backend, 'protocol')).toBe('http');
    expect(prop(backend, 'tls')).toEqual({
      validateCertificateChain: true,
      validateCertificateName: true,
    });
  });

  it('is the backend every <set-backend-service backend-id> of the policies selects', (ctx) => {
    const { deployment } = deployed(ctx);
    const { service } = apimParts(deployment);
    const backends = resourcesOfType(deployment, 'Microsoft.ApiManagement/service/backends').map(
      (b) => b.name.slice(service.name.length + 1),
    );
    const selected = policyFiles.flatMap((file) =>
      [
        ...fs.readFileSync(path.join(POLICY_DIR, file), 'utf8').matchAll(/backend-id="([^"]+)"/g),
      ].map((m) => m[1]!),
    );
    expect(selected).toContain('function-app');
    for (const id of selected) expect(backends).toContain(id);
  });
});

describe('policies', () => {
  it('the API policy is apim/policies/api.xml verbatim, as rawxml', (ctx) => {
    const { deployment } = deployed(ctx);
    const { api } = apimParts(deployment);
    const policy = single(
      deployment,
      'Microsoft.ApiManagement/service/apis/policies',
      `${api.name}/policy`,
    );
    expect(prop(policy, 'format')).toBe('rawxml');
    expect(prop(policy, 'value')).toBe(readApim('policies', 'api.xml'));
  });

  it('the product policy is apim/policies/product.xml verbatim, as rawxml', (ctx) => {
    const { deployment } = deployed(ctx);
    const { service } = apimParts(deployment);
    const policy = single(
      deployment,
      'Microsoft.ApiManagement/service/products/policies',
      `${service.name}/functions/policy`,
    );
    expect(prop(policy, 'format')).toBe('rawxml');
    expect(prop(policy, 'value')).toBe(readApim('policies', 'product.xml'));
  });

  it('every policy file under apim/policies is deployed', (ctx) => {
    const { deployment } = deployed(ctx);
    const deployedPolicies = deployment.resources
      .filter((r) => r.type.endsWith('/policies'))
      .map((r) => prop(r, 'value'));
    for (const file of policyFiles) {
      expect(deployedPolicies, file).toContain(
        fs.readFileSync(path.join(POLICY_DIR, file), 'utf8'),
      );
    }
  });

  it('every {{named value}} used by apim/policies/*.xml is defined as a named value', (ctx) => {
    const { deployment } = deployed(ctx);
    const { service } = apimParts(deployment);
    const declared = new Map(
      resourcesOfType(deployment, 'Microsoft.ApiManagement/service/namedValues').map((nv) => [
        nv.name.slice(service.name.length + 1),
        nv,
      ]),
    );
    const used = policyFiles.flatMap((file) =>
      namedValueReferences(fs.readFileSync(path.join(POLICY_DIR, file), 'utf8')),
    );
    expect(used).toContain('api-app-client-id');
    for (const name of used) {
      const namedValue = defined(declared.get(name), `named value ${name}`);
      expect(prop(namedValue, 'displayName'), name).toBe(name);
      expect(prop(namedValue, 'displayName'), name).toMatch(/^[A-Za-z0-9-._]+$/);
      expect(typeof prop(namedValue, 'value'), name).toBe('string');
    }
  });

  it('api-app-client-id is the client id of the app registration, and not marked secret', (ctx) => {
    const { child } = apimParts(deployed(ctx).deployment);
    const namedValue = child('namedValues', 'api-app-client-id');
    expect(prop(namedValue, 'value')).toBe(API_APP_CLIENT_ID);
    expect(prop(namedValue, 'secret')).toBe(false);
  });

  it('the API policy is saved after the named value and the backend it uses', (ctx) => {
    const { deployment } = deployed(ctx);
    const { api, child } = apimParts(deployment);
    const policy = single(
      deployment,
      'Microsoft.ApiManagement/service/apis/policies',
      `${api.name}/policy`,
    );
    expect(policy.dependsOn).toEqual(
      expect.arrayContaining([
        child('namedValues', 'api-app-client-id').id,
        child('backends', 'function-app').id,
      ]),
    );
  });
});

describe('product and subscription', () => {
  it('the product requires a subscription, needs no approval, is published and contains the API', (ctx) => {
    const { deployment } = deployed(ctx);
    const { child, api, service } = apimParts(deployment);
    const product = child('products', 'functions');
    expect(prop(product, 'subscriptionRequired')).toBe(true);
    expect(prop(product, 'approvalRequired')).toBe(false);
    expect(prop(product, 'state')).toBe('published');
    const links = resourcesOfType(deployment, 'Microsoft.ApiManagement/service/products/apis');
    expect(links.map((l) => l.name)).toEqual([
      `${service.name}/functions/${api.name.split('/')[1]!}`,
    ]);
  });

  it('one subscription to the product is active, without tracing', (ctx) => {
    const { deployment } = deployed(ctx);
    const { child } = apimParts(deployment);
    const subscriptions = resourcesOfType(
      deployment,
      'Microsoft.ApiManagement/service/subscriptions',
    );
    expect(subscriptions).toHaveLength(1);
    expect(prop(subscriptions[0]!, 'scope')).toBe(child('products', 'functions').id);
    expect(prop(subscriptions[0]!, 'state')).toBe('active');
    expect(prop(subscriptions[0]!, 'allowTracing')).toBe(false);
  });

  it('no subscription key is set in the template (API Management generates them)', (ctx) => {
    const { deployment } = deployed(ctx);
    for (const subscription of resourcesOfType(
      deployment,
      'Microsoft.ApiManagement/service/subscriptions',
    )) {
      expect(prop(subscription, 'primaryKey')).toBeUndefined();
      expect(prop(subscription, 'secondaryKey')).toBeUndefined();
    }
  });
});

describe('namedValueReferences', () => {
  it('finds each {{name}} once', () => {
    expect(namedValueReferences('<a b="{{x-1}}">{{ y }}{{x-1}}</a>')).toEqual(['x-1', 'y']);
    expect(namedValueReferences('<a>{literal}</a>')).toEqual([]);
  });
});
