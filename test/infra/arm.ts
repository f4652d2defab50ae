/**
 * A small, strict stand-in for Azure Resource Manager that "deploys" a compiled template offline:
 * it validates the parameters, evaluates every template expression (module parameters, variables,
 * user-defined functions, `reference()` of module outputs and of resources) and returns each
 * resource with its final values. Runtime-only values (principal ids, host names, endpoints) are
 * fake but deterministic and can be looked up with {@link SimulatedDeployment.runtime}, so tests can
 * check wiring ("the allowed caller is API Management's identity") and not only literals.
 *
 * Anything it does not understand (an unknown function, a condition, a copy loop, a reference to
 * a resource it cannot find) throws, so that a template change can never pass unnoticed.
 */
import crypto from 'node:crypto';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export interface SimulationContext {
  readonly subscriptionId: string;
  readonly tenantId: string;
  /** Region of the subscription-scope deployment (azd passes AZURE_LOCATION). */
  readonly deploymentLocation: string;
}

export interface SimulatedResource {
  readonly type: string;
  readonly name: string;
  readonly id: string;
  /** Symbolic name (language version 2.0) or array index in the template that declared it. */
  readonly key: string;
  /** Names of the module deployments that contain it, outermost first. */
  readonly modulePath: readonly string[];
  readonly scope: string | undefined;
  readonly location: Json | undefined;
  readonly kind: Json | undefined;
  readonly tags: JsonObject;
  readonly sku: Json | undefined;
  readonly identity: Json | undefined;
  readonly properties: JsonObject;
  readonly dependsOn: readonly string[];
}

export interface SimulatedDeployment {
  readonly resources: readonly SimulatedResource[];
  readonly outputs: Readonly<Record<string, Json>>;
  /** The fake runtime values handed out, by resource id: `principalId`, `clientId`, ... */
  readonly runtime: (resourceId: string) => JsonObject;
}

export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

const LOGIN_ENDPOINT = 'https://login.microsoftonline.com/';

/** Deterministic GUID from its inputs (a stand-in for ARM's `guid()`). */
export function fakeGuid(...parts: readonly string[]): string {
  const hex = crypto.createHash('sha256').update(parts.join('\u0000')).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function fakeUniqueString(parts: readonly string[]): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  const bytes = crypto.createHash('sha256').update(parts.join('\u0000')).digest();
  let out = '';
  for (let i = 0; i < 13; i += 1) out += alphabet[(bytes[i] ?? 0) % 32];
  return out;
}

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asString(value: Json, what: string): string {
  if (typeof value !== 'string')
    throw new TemplateError(`${what} must be a string, got ${JSON.stringify(value)}`);
  return value;
}

// ---------------------------------------------------------------------------------------------
// Expression parsing

type Expr =
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'call'; name: string; args: Expr[] }
  | { kind: 'property'; target: Expr; name: string }
  | { kind: 'index'; target: Expr; index: Expr };

function parseExpression(source: string): Expr {
  let pos = 0;
  const peek = (): string => source[pos] ?? '';
  const skipSpace = (): void => {
    while (/\s/.test(peek())) pos += 1;
  };
  const expect = (char: string): void => {
    skipSpace();
    if (peek() !== char) throw new TemplateError(`Expected '${char}' at ${pos} in ${source}`);
    pos += 1;
  };
  const parsePrimary = (): Expr => {
    skipSpace();
    const char = peek();
    if (char === "'") {
      pos += 1;
      let value = '';
      for (;;) {
        if (pos >= source.length) throw new TemplateError(`Unterminated string in ${source}`);
        const c = source[pos] ?? '';
        pos += 1;
        if (c === "'") {
          if (peek() === "'") {
            value += "'";
            pos += 1;
          } else break;
        } else value += c;
      }
      return { kind: 'string', value };
    }
    const number = /^-?\d+/.exec(source.slice(pos));
    if (number !== null) {
      pos += number[0].length;
      return { kind: 'number', value: Number(number[0]) };
    }
    const name = /^[A-Za-z_][\w.]*/.exec(source.slice(pos));
    if (name === null) throw new TemplateError(`Unexpected '${char}' at ${pos} in ${source}`);
    pos += name[0].length;
    expect('(');
    const args: Expr[] = [];
    skipSpace();
    if (peek() === ')') pos += 1;
    else {
      for (;;) {
        args.push(parseChain());
        skipSpace();
        if (peek() === ',') pos += 1;
        else if (peek() === ')') {
          pos += 1;
          break;
        } else throw new TemplateError(`Expected ',' or ')' at ${pos} in ${source}`);
      }
    }
    return { kind: 'call', name: name[0], args };
  };
  const parseChain = (): Expr => {
    let expr = parsePrimary();
    for (;;) {
      skipSpace();
      if (peek() === '.') {
        pos += 1;
        const name = /^[A-Za-z_$][\w$-]*/.exec(source.slice(pos));
        if (name === null)
          throw new TemplateError(`Expected a property name at ${pos} in ${source}`);
        pos += name[0].length;
        expr = { kind: 'property', target: expr, name: name[0] };
      } else if (peek() === '[') {
        pos += 1;
        const index = parseChain();
        expect(']');
        expr = { kind: 'index', target: expr, index };
      } else return expr;
    }
  };
  const expr = parseChain();
  skipSpace();
  if (pos !== source.length) throw new TemplateError(`Unexpected text at ${pos} in ${source}`);
  return expr;
}

// ---------------------------------------------------------------------------------------------
// Evaluation

interface Scope {
  readonly parameters: Readonly<Record<string, Json>>;
  readonly variables: JsonObject;
  readonly functions: Readonly<
    Record<string, { parameters: { name: string }[]; output: { value: Json } }>
  >;
  readonly resourceGroup: string | undefined;
  readonly location: string;
  readonly modulePath: readonly string[];
  /** Symbolic name or `type/name` -> evaluated resource (filled lazily). */
  readonly reference: (key: string, full: boolean) => Json;
  readonly referenceById: (resourceId: string, full: boolean) => Json;
}

export class Simulator {
  private readonly resources: SimulatedResource[] = [];
  private readonly runtimeValues = new Map<string, JsonObject>();

  constructor(private readonly context: SimulationContext) {}

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
          const wrapped: JsonObject = {};
          for (const [name, value] of Object.entries(outputs)) wrapped[name] = { value };
          return { outputs: wrapped };
        }
        return this.referenceOf(evaluateResource(key, entry[1]), full);
      },
      referenceById: (resourceId, full) => {
        for (const [key, definition] of resourceEntries) {
          if (definition.type === 'Microsoft.Resources/deployments') continue;
          const resource = evaluateResource(key, definition);
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

    const evaluateResource = (key: string, definition: JsonObject): SimulatedResource => {
      const done = evaluated.get(key);
      if (done !== undefined) return done;
      if (inProgress.has(key)) throw new TemplateError(`Circular reference at resource ${key}`);
      inProgress.add(key);
      for (const unsupported of ['condition', 'copy']) {
        if (unsupported in definition)
          throw new TemplateError(`Resource ${key}: '${unsupported}' is not supported`);
      }
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
      if (inProgress.has(key)) throw new TemplateError(`Circular reference at module ${key}`);
      inProgress.add(key);
      for (const unsupported of ['condition', 'copy']) {
        if (unsupported in definition)
          throw new TemplateError(`Module ${key}: '${unsupported}' is not supported`);
      }
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
        if (!isObject(wrapper) || !('value' in wrapper)) {
          throw new TemplateError(`Module ${key}: parameter ${param} has no value`);
        }
        supplied[param] = this.evaluate(wrapper.value ?? null, scope);
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
        return this.call(expr.name, expr.args, scope);
    }
  }

  private call(name: string, argExprs: Expr[], scope: Scope): Json {
    const args = (): Json[] => argExprs.map((a) => this.evaluateExpr(a, scope));
    const fn = name.toLowerCase();
    switch (fn) {
      // ARM evaluates only the branch `if` takes (functions-logical "if"), so a fail() in the
      // other branch does not stop the deployment.
      case 'if': {
        const [condition, whenTrue, whenFalse] = argExprs;
        if (condition === undefined || whenTrue === undefined || whenFalse === undefined)
          throw new TemplateError('if() takes three arguments');
        const chosen = this.evaluateExpr(condition, scope) === true ? whenTrue : whenFalse;
        return this.evaluateExpr(chosen, scope);
      }
      case 'fail':
        throw new TemplateError(asString(args()[0] ?? null, 'fail()'));
      case 'equals': {
        const [a, b] = args();
        return JSON.stringify(a) === JSON.stringify(b);
      }
      case 'not':
        return args()[0] !== true;
      case 'empty': {
        const value = args()[0] ?? null;
        if (value === null) return true;
        if (typeof value === 'string' || Array.isArray(value)) return value.length === 0;
        if (isObject(value)) return Object.keys(value).length === 0;
        throw new TemplateError(`empty(): unsupported argument ${JSON.stringify(value)}`);
      }
      case 'length': {
        const value = args()[0] ?? null;
        if (typeof value === 'string' || Array.isArray(value)) return value.length;
        if (isObject(value)) return Object.keys(value).length;
        throw new TemplateError(`length(): unsupported argument ${JSON.stringify(value)}`);
      }
      case 'parameters': {
        const key = asString(args()[0] ?? null, 'parameters()');
        if (!(key in scope.parameters))
          throw new TemplateError(`parameters('${key}'): not declared`);
        return scope.parameters[key] ?? null;
      }
      case 'variables': {
        const key = asString(args()[0] ?? null, 'variables()');
        if (!(key in scope.variables))
          throw new TemplateError(`variables('${key}'): not (yet) defined`);
        return scope.variables[key] ?? null;
      }
      case 'format': {
        const [pattern, ...rest] = args();
        return asString(pattern ?? null, 'format pattern').replace(
          /\{(\d+)(:[^}]*)?\}/g,
          (_m, i: string, spec?: string) => {
            if (spec !== undefined)
              throw new TemplateError(`format specifiers are not supported: ${spec}`);
            const arg = rest[Number(i)];
            if (arg === undefined) throw new TemplateError(`format: no argument ${i}`);
            return typeof arg === 'string' ? arg : JSON.stringify(arg);
          },
        );
      }
      case 'concat': {
        const values = args();
        if (values.every((v) => Array.isArray(v))) return (values as Json[][]).flat();
        return values.map((v) => asString(v, 'concat argument')).join('');
      }
      case 'join': {
        const [items, delimiter] = args();
        if (!Array.isArray(items)) throw new TemplateError('join: first argument must be an array');
        return items
          .map((i) => asString(i, 'join item'))
          .join(asString(delimiter ?? null, 'join delimiter'));
      }
      case 'union': {
        const values = args();
        if (values.every(isObject))
          return values.reduce<JsonObject>((acc, v) => deepMerge(acc, v), {});
        if (values.every((v) => Array.isArray(v))) {
          const out: Json[] = [];
          for (const item of (values as Json[][]).flat()) {
            if (!out.some((o) => JSON.stringify(o) === JSON.stringify(item))) out.push(item);
          }
          return out;
        }
        throw new TemplateError('union: arguments must all be objects or all arrays');
      }
      case 'createobject': {
        const values = args();
        if (values.length % 2 !== 0)
          throw new TemplateError('createObject: odd number of arguments');
        const out: JsonObject = {};
        for (let i = 0; i < values.length; i += 2) {
          out[asString(values[i] ?? null, 'createObject key')] = values[i + 1] ?? null;
        }
        return out;
      }
      case 'createarray':
        return args();
      case 'true':
        return true;
      case 'false':
        return false;
      case 'null':
        return null;
      case 'tolower':
        return asString(args()[0] ?? null, 'toLower').toLowerCase();
      case 'tenant':
        return { tenantId: this.context.tenantId };
      case 'subscription':
        return {
          id: `/subscriptions/${this.context.subscriptionId}`,
          subscriptionId: this.context.subscriptionId,
          tenantId: this.context.tenantId,
        };
      case 'environment':
        return {
          name: 'AzureCloud',
          authentication: { loginEndpoint: LOGIN_ENDPOINT },
          suffixes: { storage: 'core.windows.net' },
        };
      case 'resourcegroup':
        if (scope.resourceGroup === undefined)
          throw new TemplateError('resourceGroup() at subscription scope');
        return { name: scope.resourceGroup, location: scope.location };
      case 'deployment':
        throw new TemplateError(
          'deployment() makes names depend on the deployment: not allowed here',
        );
      case 'utcnow':
      case 'newguid':
        throw new TemplateError(`${name}() is not deterministic: not allowed here`);
      case 'uniquestring':
        return fakeUniqueString(args().map((a) => asString(a, 'uniqueString argument')));
      case 'guid':
        return fakeGuid(...args().map((a) => asString(a, 'guid argument')));
      case 'resourceid': {
        const values = args().map((a) => asString(a, 'resourceId argument'));
        const [type, ...names] = values;
        if (type === undefined || !type.includes('/')) {
          throw new TemplateError(
            'resourceId with a subscription or group argument is not supported',
          );
        }
        return this.resourceId(scope, type, names);
      }
      case 'subscriptionresourceid': {
        const [type, ...names] = args().map((a) => asString(a, 'subscriptionResourceId argument'));
        return this.resourceId({ resourceGroup: undefined }, type ?? '', names);
      }
      case 'reference': {
        const values = args();
        const target = asString(values[0] ?? null, 'reference target');
        const full = values[2] === 'full';
        return target.startsWith('/')
          ? scope.referenceById(target, full)
          : scope.reference(target, full);
      }
      default: {
        const userFunction = scope.functions[name];
        if (userFunction === undefined)
          throw new TemplateError(`Unsupported template function ${name}()`);
        const values = args();
        const bound: Record<string, Json> = {};
        userFunction.parameters.forEach((p, i) => {
          bound[p.name] = values[i] ?? null;
        });
        return this.evaluate(userFunction.output.value, {
          ...scope,
          parameters: bound,
          variables: {},
        });
      }
    }
  }
}

function deepMerge(left: JsonObject, right: JsonObject): JsonObject {
  const out: JsonObject = { ...left };
  for (const [key, value] of Object.entries(right)) {
    const existing = out[key];
    out[key] = isObject(existing) && isObject(value) ? deepMerge(existing, value) : value;
  }
  return out;
}

function validateParameter(name: string, definition: JsonObject, value: Json): void {
  const fail = (why: string): never => {
    throw new TemplateError(`Parameter '${name}': ${why}`);
  };
  const type = typeof definition.type === 'string' ? definition.type.toLowerCase() : '';
  const actual = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
  const expected: Record<string, string> = {
    string: 'string',
    securestring: 'string',
    int: 'number',
    bool: 'boolean',
    object: 'object',
    secureobject: 'object',
    array: 'array',
  };
  if (type !== '' && expected[type] !== actual) fail(`expected ${type}, got ${actual}`);
  if (
    Array.isArray(definition.allowedValues) &&
    !definition.allowedValues.some((v) => v === value)
  ) {
    fail(`${JSON.stringify(value)} is not one of ${JSON.stringify(definition.allowedValues)}`);
  }
  const length = typeof value === 'string' || Array.isArray(value) ? value.length : undefined;
  if (
    typeof definition.minLength === 'number' &&
    length !== undefined &&
    length < definition.minLength
  ) {
    fail(`length ${length} is less than the minimum ${definition.minLength}`);
  }
  if (
    typeof definition.maxLength === 'number' &&
    length !== undefined &&
    length > definition.maxLength
  ) {
    fail(`length ${length} is more than the maximum ${definition.maxLength}`);
  }
  if (
    typeof definition.minValue === 'number' &&
    typeof value === 'number' &&
    value < definition.minValue
  ) {
    fail(`${value} is less than the minimum ${definition.minValue}`);
  }
  if (
    typeof definition.maxValue === 'number' &&
    typeof value === 'number' &&
    value > definition.maxValue
  ) {
    fail(`${value} is more than the maximum ${definition.maxValue}`);
  }
}

/** "Deploys" `template` with `parameters` (as in main.parameters.json, after azd's substitution). */
export function simulateDeployment(
  template: unknown,
  parameters: Readonly<Record<string, Json>>,
  context: SimulationContext,
): SimulatedDeployment {
  if (!isObject(template as Json)) throw new TemplateError('The template is not a JSON object');
  return new Simulator(context).deploy(template as JsonObject, parameters);
}
