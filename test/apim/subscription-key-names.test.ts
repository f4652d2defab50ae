import { describe, expect, it } from 'vitest';
import { SUBSCRIPTION_KEY_PARAMETER_NAMES } from '../../scripts/local/gateway/api';
import { useCompiledTemplate } from '../support/bicep';

/**
 * The subscription key names: the API's subscriptionKeyParameterNames in the compiled Bicep
 * (API Management ignores OpenAPI securitySchemes on import) are the names the local gateway
 * looks for.
 */

const compiled = useCompiledTemplate();

/** Every resource of `type` in a compiled template, nested deployments included. */
function resourcesOfType(template: unknown, type: string): Record<string, unknown>[] {
  const found: Record<string, unknown>[] = [];
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (typeof value === 'object' && value !== null) {
      const record = value as Record<string, unknown>;
      if (record.type === type) found.push(record);
      Object.values(record).forEach(walk);
    }
  };
  walk(template);
  return found;
}

describe('subscription key names', () => {
  it("the API's subscriptionKeyParameterNames in Bicep are the ones the local gateway reads", (ctx) => {
    const apis = resourcesOfType(compiled(ctx).template, 'Microsoft.ApiManagement/service/apis');
    expect(apis).toHaveLength(1);
    const properties = apis[0]!.properties as Record<string, unknown>;
    expect(properties.subscriptionKeyParameterNames).toEqual(SUBSCRIPTION_KEY_PARAMETER_NAMES);
  });
});
