/**
 * Monitoring in the compiled template: the saved queries (infra/queries/*.kql, verbatim), the alert
 * on refusals with its optional e-mail action group (ALERT_EMAIL), and API Management logging
 * every call to the same Application Insights with its identity, no header, body or client IP.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/bicep';
import { AZD_ENV, deploy, prop, resourcesOfType, single, useDeployment } from './deployment';
import type { SimulatedDeployment } from './arm';

const deployed = useDeployment();
const kql = (name: string) =>
  fs.readFileSync(path.join(ROOT, 'infra', 'queries', `${name}.kql`), 'utf8');
const MONITORING_METRICS_PUBLISHER = '3913510d-42f4-4e42-8a64-420c390055eb';

function monitoringParts(deployment: SimulatedDeployment) {
  const workspace = single(deployment, 'Microsoft.OperationalInsights/workspaces');
  const insights = single(deployment, 'Microsoft.Insights/components');
  const service = single(deployment, 'Microsoft.ApiManagement/service');
  return {
    workspace,
    insights,
    service,
    pack: single(deployment, 'Microsoft.OperationalInsights/queryPacks'),
    queries: resourcesOfType(deployment, 'Microsoft.OperationalInsights/queryPacks/queries'),
    rule: single(deployment, 'Microsoft.Insights/scheduledQueryRules'),
    logger: single(deployment, 'Microsoft.ApiManagement/service/loggers'),
    diagnostic: single(deployment, 'Microsoft.ApiManagement/service/diagnostics'),
  };
}

describe('saved queries', () => {
  it('a query pack holds each query file of infra/queries except the alert, verbatim', (ctx) => {
    const { deployment } = deployed(ctx);
    const { pack, queries } = monitoringParts(deployment);
    const saved = fs
      .readdirSync(path.join(ROOT, 'infra', 'queries'))
      .filter((f) => f.endsWith('.kql') && f !== 'refusal-alert.kql')
      .map((f) => kql(f.slice(0, -4)))
      .sort();
    expect(queries.map((q) => prop(q, 'body')).sort()).toEqual(saved);
    for (const query of queries) {
      expect(query.name.startsWith(`${pack.name}/`)).toBe(true);
      expect(query.name.split('/')[1]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-/);
      expect(prop(query, 'related')).toEqual({
        categories: ['applications'],
        resourceTypes: ['microsoft.operationalinsights/workspaces'],
      });
    }
    expect(new Set(queries.map((q) => q.name)).size).toBe(queries.length);
    expect(new Set(queries.map((q) => prop(q, 'displayName'))).size).toBe(queries.length);
  });
});

describe('the refusal alert', () => {
  it('runs infra/queries/refusal-alert.kql on the workspace every 5 minutes and fires on any row', (ctx) => {
    const { deployment } = deployed(ctx);
    const { rule, workspace } = monitoringParts(deployment);
    expect(rule.kind).toBe('LogAlert');
    expect(prop(rule, 'scopes')).toEqual([workspace.id]);
    expect(prop(rule, 'evaluationFrequency')).toBe('PT5M');
    expect(prop(rule, 'windowSize')).toBe('PT5M');
    expect(prop(rule, 'enabled')).toBe(true);
    expect(prop(rule, 'criteria')).toEqual({
      allOf: [
        {
          query: kql('refusal-alert'),
          timeAggregation: 'Count',
          operator: 'GreaterThan',
          threshold: 0,
          failingPeriods: { numberOfEvaluationPeriods: 1, minFailingPeriodsToAlert: 1 },
        },
      ],
    });
  });

  it('deploys without ALERT_EMAIL: no action group, the rule notifies no one', (ctx) => {
    const { deployment } = deployed(ctx);
    expect(resourcesOfType(deployment, 'Microsoft.Insights/actionGroups')).toEqual([]);
    expect(prop(monitoringParts(deployment).rule, 'actions')).toEqual({ actionGroups: [] });
  });

  it('with ALERT_EMAIL, e-mails that address through an action group the rule names', (ctx) => {
    const { template } = deployed(ctx);
    const deployment = deploy(template, { ...AZD_ENV, ALERT_EMAIL: 'ops@example.com' });
    const group = single(deployment, 'Microsoft.Insights/actionGroups');
    expect(group.location).toBe('global');
    expect(prop(group, 'emailReceivers')).toEqual([
      { name: 'refusal-alert', emailAddress: 'ops@example.com', useCommonAlertSchema: true },
    ]);
    expect((prop(group, 'groupShortName') as string).length).toBeLessThanOrEqual(12);
    expect(prop(monitoringParts(deployment).rule, 'actions')).toEqual({ actionGroups: [group.id] });
  });
});

describe('API Management logging', () => {
  it("logs to the Function App's Application Insights with its system-assigned identity, no key", (ctx) => {
    const { deployment } = deployed(ctx);
    const { logger, insights, service } = monitoringParts(deployment);
    expect(logger.name).toBe(`${service.name}/application-insights`);
    expect(prop(logger, 'loggerType')).toBe('applicationInsights');
    expect(prop(logger, 'resourceId')).toBe(insights.id);
    expect(prop(logger, 'credentials')).toEqual({
      connectionString: deployment.runtime(insights.id).ConnectionString,
      identityClientId: 'SystemAssigned',
    });
  });

  it('its identity may publish to Application Insights (Monitoring Metrics Publisher)', (ctx) => {
    const { deployment } = deployed(ctx);
    const { insights, service } = monitoringParts(deployment);
    const principalId = deployment.runtime(service.id).identityPrincipalId;
    expect(principalId).toMatch(/^[0-9a-f-]{36}$/);
    const assignments = resourcesOfType(
      deployment,
      'Microsoft.Authorization/roleAssignments',
    ).filter((a) => prop(a, 'principalId') === principalId);
    expect(assignments).toHaveLength(1);
    expect(assignments[0]!.scope).toBe(insights.id);
    expect(prop(assignments[0]!, 'roleDefinitionId') as string).toMatch(
      new RegExp(`/roleDefinitions/${MONITORING_METRICS_PUBLISHER}$`),
    );
  });

  it('every call of every API is logged, W3C trace context forwarded, no header, body or client IP', (ctx) => {
    const { deployment } = deployed(ctx);
    const { diagnostic, logger, service } = monitoringParts(deployment);
    expect(diagnostic.name).toBe(`${service.name}/applicationinsights`);
    expect(prop(diagnostic, 'loggerId')).toBe(logger.id);
    expect(prop(diagnostic, 'sampling')).toEqual({ samplingType: 'fixed', percentage: 100 });
    expect(prop(diagnostic, 'httpCorrelationProtocol')).toBe('W3C');
    expect(prop(diagnostic, 'logClientIp')).toBe(false);
    const nothing = { headers: [], body: { bytes: 0 } };
    for (const side of ['frontend', 'backend']) {
      expect(prop(diagnostic, side)).toEqual({ request: nothing, response: nothing });
    }
  });

  it('the logging module is deployed after the role assignments', (ctx) => {
    const { template } = deployed(ctx);
    const resources = template.resources as Record<string, { name?: string; dependsOn?: string[] }>;
    const logging = Object.entries(resources).find(([, r]) => r.name === 'apim-logging');
    expect(logging?.[1].dependsOn).toEqual(expect.arrayContaining(['rbac']));
  });
});
