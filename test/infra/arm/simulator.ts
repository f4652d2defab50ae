/** Evaluates a compiled template and its nested modules into resources and outputs (see ../arm.ts). */
import { parseExpression, type Expr } from './expression';
import { callFunction, type FunctionEnvironment } from './functions';
import {
  TemplateError,
  asString,
  fakeGuid,
  isObject,
  type Json,
  type JsonObject,
  type Scope,
  type SimulatedDeployment,
  type SimulatedResource,
  type SimulationContext,
} from './model';
import { validateParameter } from './parameters';

export class Simulator {
  private readonly resources: SimulatedResource[] = [];
  private readonly runtimeValues = new Map<string, JsonObject>();

  private readonly environment: FunctionEnvironment;

  constructor(private readonly context: SimulationContext) {
    this.environment = {
      context,
      evaluate: (value, scope) => this.evaluate(value, scope),
      evaluateExpr: (expr, scope) => this.evaluateExpr(expr, scope),
      resourceId: (scope, type, names) => this.resourceId(scope, type, names),
    };
  }

  deploy(template: JsonObject, parameters: Readonly<Record<string, Json>>): SimulatedDeployment {
    const outputs = this.evaluateTemplate(template, parameters, {
      resourceGroup: undefined,
      location: this.context.deploymentLocation,
      modulePath: [],
    });
    return {
      resources: this.resources,
      outputs,
      runtime: (resourceId) => {
        const values = this.runtimeValues.get(resourceId.toLowerCase());
        if (values === undefined) throw new TemplateError(`No runtime values for ${resourceId}`);
        return values;
      },
    };
  }

  private resourceId(
    scope: Pick<Scope, 'resourceGroup'>,
    type: string,
    names: readonly string[],
  ): string {
    const typeParts = type.split('/');
    const namespace = typeParts[0];
    const types = typeParts.slice(1);
    if (types.length !== names.length) {
      throw new TemplateError(
        `resourceId(${type}) needs ${types.length} names, got ${names.length}`,
      );
    }
    const path = types.map((t, i) => `${t}/${names[i] ?? ''}`).join('/');
    const base =
      type === 'Microsoft.Resources/resourceGroups' || scope.resourceGroup === undefined
        ? `/subscriptions/${this.context.subscriptionId}`
        : `/subscriptions/${this.context.subscriptionId}/resourceGroups/${scope.resourceGroup}`;
    if (type === 'Microsoft.Resources/resourceGroups')
      return `${base}/resourceGroups/${names[0] ?? ''}`;
    return `${base}/providers/${namespace}/${path}`;
  }

  private runtimeFor(resource: SimulatedResource): JsonObject {
    const key = resource.id.toLowerCase();
    const known = this.runtimeValues.get(key);
    if (known !== undefined) return known;
    const values: JsonObject = {};
    switch (resource.type) {
      case 'Microsoft.ManagedIdentity/userAssignedIdentities':
        values.clientId = fakeGuid('client', resource.id);
        values.principalId = fakeGuid('principal', resource.id);
        break;
      case 'Microsoft.Storage/storageAccounts':
        values.primaryEndpoints = { blob: `https://${resource.name}.blob.core.windows.net/` };
        break;
      case 'Microsoft.Insights/components':
        values.ConnectionString = `InstrumentationKey=${fakeGuid('ikey', resource.id)};IngestionEndpoint=https://example.in.applicationinsights.azure.com/`;
        break;
      case 'Microsoft.Web/sites':
        values.defaultHostName = `${resource.name}.azurewebsites.net`;
        break;
      case 'Microsoft.ApiManagement/service':
        values.gatewayUrl = `https://${resource.name}.azure-api.net`;
        break;
      default:
        break;
    }
    if (isObject(resource.identity)) {
      const type = asString(resource.identity.type ?? null, `${resource.id} identity.type`);
      if (type.includes('SystemAssigned')) {
        values.identityPrincipalId = fakeGuid('system-assigned-principal', resource.id);
      }
    }
    this.runtimeValues.set(key, values);
    return values;
  }

  private referenceOf(resource: SimulatedResource, full: boolean): Json {
    const runtime = this.runtimeFor(resource);
    const { identityPrincipalId, ...runtimeProperties } = runtime;
    const properties: JsonObject = { ...resource.properties, ...runtimeProperties };
    if (!full) return properties;
    const identity: JsonObject | null = isObject(resource.identity)
      ? {
          ...resource.identity,
          ...(identityPrincipalId === undefined
            ? {}
            : { principalId: identityPrincipalId, tenantId: this.context.tenantId }),
        }
      : null;
    return {
      id: resource.id,
      name: resource.name,
      type: resource.type,
      properties,
      identity,
      tags: resource.tags,
    };
  }

  private evaluateTemplate(
    template: JsonObject,
    suppliedParameters: Readonly<Record<string, Json>>,
    where: { resourceGroup: string | undefined; location: string; modulePath: readonly string[] },
  ): Record<string, Json> {
    const declared = isObject(template.parameters) ? template.parameters : {};
    for (const name of Object.keys(suppliedParameters)) {
      if (!(name in declared))
        throw new TemplateError(`Unknown parameter '${name}' (${where.modulePath.join('/')})`);
    }

    const functions: Record<string, { parameters: { name: string }[]; output: { value: Json } }> =
      {};
    if (Array.isArray(template.functions)) {
      for (const namespace of template.functions) {
        if (!isObject(namespace) || !isObject(namespace.members)) continue;
        const prefix = asString(namespace.namespace ?? null, 'function namespace');
        for (const [member, definition] of Object.entries(namespace.members)) {
          functions[`${prefix}.${member}`] = definition as unknown as {
            parameters: { name: string }[];
            output: { value: Json };
          };
        }
      }
    }

    const parameters: Record<string, Json> = {};
    const variables: JsonObject = {};
    const resourceEntries: [string, JsonObject][] = [];
    const raw = template.resources;
    if (Array.isArray(raw))
      raw.forEach((r, i) => resourceEntries.push([String(i), r as JsonObject]));
    else if (isObject(raw))
      for (const [k, r] of Object.entries(raw)) resourceEntries.push([k, r as JsonObject]);

    const evaluated = new Map<string, SimulatedResource>();
    const inProgress = new Set<string>();
    const moduleOutputs = new Map<string, Record<string, Json>>();
    /** Resources and modules whose `condition` is false: ARM deploys nothing and evaluates nothing else of them. */
    const notDeployed = new Set<string>();
    const deployedByCondition = (key: string, definition: JsonObject, what: string): boolean => {
      if (!('condition' in definition)) return true;
      const condition = this.evaluate(definition.condition ?? null, scope);
      if (typeof condition !== 'boolean')
        throw new TemplateError(
          `${what} ${key}: condition must be a bool, got ${JSON.stringify(condition)}`,
        );
      if (!condition) notDeployed.add(key);
      return condition;
    };
    const refuseNotDeployed = (key: string): void => {
      if (notDeployed.has(key))
        throw new TemplateError(`reference('${key}'): not deployed (its condition is false)`);
    };

    const scope: Scope = {
      parameters,
      variables,
      functions,
      resourceGroup: where.resourceGroup,
      location: where.location,
      modulePath: where.modulePath,
      reference: (key, full) => {
        const entry = resourceEntries.find(([k]) => k === key);
        if (entry === undefined) throw new TemplateError(`reference('${key}'): no such resource`);
        if (entry[1].type === 'Microsoft.Resources/deployments') {
          const outputs = evaluateModule(key, entry[1]);
          refuseNotDeployed(key);
          const wrapped: JsonObject = {};
          for (const [name, value] of Object.entries(outputs)) wrapped[name] = { value };
          return { outputs: wrapped };
        }
        const resource = evaluateResource(key, entry[1]);
        refuseNotDeployed(key);
        return this.referenceOf(resource as SimulatedResource, full);
      },
      referenceById: (resourceId, full) => {
        for (const [key, definition] of resourceEntries) {
          if (definition.type === 'Microsoft.Resources/deployments') continue;
          const resource = evaluateResource(key, definition);
          if (resource === undefined) continue;
          if (resource.id.toLowerCase() === resourceId.toLowerCase())
            return this.referenceOf(resource, full);
        }
        throw new TemplateError(`reference('${resourceId}'): not declared in this template`);
      },
    };

    for (const [name, definition] of Object.entries(declared)) {
      const def = definition as JsonObject;
      let value: Json | undefined = suppliedParameters[name];
      if (value === undefined) {
        if (!('defaultValue' in def))
          throw new TemplateError(`Missing value for parameter '${name}'`);
        value = this.evaluate(def.defaultValue ?? null, scope);
      }
      validateParameter(name, def, value);
      parameters[name] = value;
    }

    if (isObject(template.variables)) {
      for (const [name, definition] of Object.entries(template.variables)) {
        if (name === 'copy') throw new TemplateError('Variable copy loops are not supported');
        variables[name] = this.evaluate(definition, scope);
      }
    }

    const evaluateResource = (
      key: string,
      definition: JsonObject,
    ): SimulatedResource | undefined => {
      const done = evaluated.get(key);
      if (done !== undefined) return done;
      if (notDeployed.has(key)) return undefined;
      if (inProgress.has(key)) throw new TemplateError(`Circular reference at resource ${key}`);
      if ('copy' in definition) throw new TemplateError(`Resource ${key}: 'copy' is not supported`);
      if (!deployedByCondition(key, definition, 'Resource')) return undefined;
      inProgress.add(key);
      if (definition.existing === true) {
        throw new TemplateError(
          `Resource ${key}: existing resources are not expected in compiled output`,
        );
      }
      const type = asString(definition.type ?? null, `resource ${key} type`);
      const name = asString(this.evaluate(definition.name ?? null, scope), `resource ${key} name`);
      const id = this.resourceId(scope, type, name.split('/'));
      const value = (field: string): Json | undefined =>
        field in definition ? this.evaluate(definition[field] ?? null, scope) : undefined;
      const resource: SimulatedResource = {
        type,
        name,
        id,
        key,
        modulePath: where.modulePath,
        scope:
          definition.scope === undefined ? undefined : asString(value('scope') ?? null, 'scope'),
        location: value('location'),
        kind: value('kind'),
        tags: (value('tags') as JsonObject | undefined) ?? {},
        sku: value('sku'),
        identity: value('identity'),
        properties: (value('properties') as JsonObject | undefined) ?? {},
        dependsOn: ((value('dependsOn') as Json[] | undefined) ?? []).map((d) =>
          asString(d, `${key} dependsOn`),
        ),
      };
      inProgress.delete(key);
      evaluated.set(key, resource);
      this.resources.push(resource);
      return resource;
    };

    const evaluateModule = (key: string, definition: JsonObject): Record<string, Json> => {
      const done = moduleOutputs.get(key);
      if (done !== undefined) return done;
      if (notDeployed.has(key)) return {};
      if (inProgress.has(key)) throw new TemplateError(`Circular reference at module ${key}`);
      if ('copy' in definition) throw new TemplateError(`Module ${key}: 'copy' is not supported`);
      if (!deployedByCondition(key, definition, 'Module')) return {};
      inProgress.add(key);
      const name = asString(this.evaluate(definition.name ?? null, scope), `module ${key} name`);
      const properties = definition.properties as JsonObject;
      const options = properties.expressionEvaluationOptions as JsonObject | undefined;
      if (options?.scope !== 'inner')
        throw new TemplateError(`Module ${key}: only inner-scoped modules are supported`);
      const resourceGroup =
        definition.resourceGroup === undefined
          ? where.resourceGroup
          : asString(this.evaluate(definition.resourceGroup, scope), `module ${key} resourceGroup`);
      const supplied: Record<string, Json> = {};
      for (const [param, wrapper] of Object.entries(
        (properties.parameters as JsonObject | undefined) ?? {},
      )) {
        // A parameter whose value Bicep chose with `?:` compiles to one expression that returns
        // the whole `{ value }` wrapper.
        const resolved = typeof wrapper === 'string' ? this.evaluate(wrapper, scope) : wrapper;
        if (!isObject(resolved) || !('value' in resolved)) {
          throw new TemplateError(`Module ${key}: parameter ${param} has no value`);
        }
        supplied[param] = this.evaluate(resolved.value ?? null, scope);
      }
      const outputs = this.evaluateTemplate(properties.template as JsonObject, supplied, {
        resourceGroup,
        location: where.location,
        modulePath: [...where.modulePath, name],
      });
      inProgress.delete(key);
      moduleOutputs.set(key, outputs);
      return outputs;
    };

    for (const [key, definition] of resourceEntries) {
      if (definition.type === 'Microsoft.Resources/deployments') evaluateModule(key, definition);
      else evaluateResource(key, definition);
    }

    const outputs: Record<string, Json> = {};
    if (isObject(template.outputs)) {
      for (const [name, definition] of Object.entries(template.outputs)) {
        const def = definition as JsonObject;
        if ('copy' in def || 'condition' in def)
          throw new TemplateError(`Output ${name}: loops and conditions are not supported`);
        outputs[name] = this.evaluate(def.value ?? null, scope);
      }
    }
    return outputs;
  }

  private evaluate(value: Json, scope: Scope): Json {
    if (typeof value === 'string') {
      if (value.startsWith('[[')) return value.slice(1);
      if (value.startsWith('[') && value.endsWith(']')) {
        return this.evaluateExpr(parseExpression(value.slice(1, -1)), scope);
      }
      return value;
    }
    if (Array.isArray(value)) return value.map((item) => this.evaluate(item, scope));
    if (isObject(value)) {
      const out: JsonObject = {};
      for (const [key, item] of Object.entries(value)) {
        out[asString(this.evaluate(key, scope), 'property name')] = this.evaluate(item, scope);
      }
      return out;
    }
    return value;
  }

  private evaluateExpr(expr: Expr, scope: Scope): Json {
    switch (expr.kind) {
      case 'string':
      case 'number':
        return expr.value;
      case 'property': {
        const target = this.evaluateExpr(expr.target, scope);
        if (!isObject(target) || !(expr.name in target)) {
          throw new TemplateError(`Property '${expr.name}' not found on ${JSON.stringify(target)}`);
        }
        return target[expr.name] ?? null;
      }
      case 'index': {
        const target = this.evaluateExpr(expr.target, scope);
        const index = this.evaluateExpr(expr.index, scope);
        if (
          Array.isArray(target) &&
          typeof index === 'number' &&
          index >= 0 &&
          index < target.length
        ) {
          return target[index] ?? null;
        }
        if (isObject(target) && typeof index === 'string' && index in target)
          return target[index] ?? null;
        throw new TemplateError(
          `Index ${JSON.stringify(index)} not found on ${JSON.stringify(target)}`,
        );
      }
      case 'call':
        return callFunction(expr.name, expr.args, scope, this.environment);
    }
  }
}
