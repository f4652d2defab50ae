/**
 * The template functions the compiled templates use, evaluated as ARM does
 * (https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions).
 * An unknown function throws, and so do the ones that make a deployment non-deterministic.
 */
import type { Expr } from './expression';
import {
  TemplateError,
  asString,
  deepMerge,
  fakeGuid,
  fakeUniqueString,
  isObject,
  type Json,
  type JsonObject,
  type Scope,
  type SimulationContext,
} from './model';

const LOGIN_ENDPOINT = 'https://login.microsoftonline.com/';

/** What a function call needs from the simulator that evaluates it. */
export interface FunctionEnvironment {
  readonly context: SimulationContext;
  readonly evaluate: (value: Json, scope: Scope) => Json;
  readonly evaluateExpr: (expr: Expr, scope: Scope) => Json;
  readonly resourceId: (
    scope: Pick<Scope, 'resourceGroup'>,
    type: string,
    names: readonly string[],
  ) => string;
}

export function callFunction(
  name: string,
  argExprs: Expr[],
  scope: Scope,
  env: FunctionEnvironment,
): Json {
  const args = (): Json[] => argExprs.map((a) => env.evaluateExpr(a, scope));
  const fn = name.toLowerCase();
  switch (fn) {
    // ARM evaluates only the branch `if` takes (functions-logical "if"), so a fail() in the
    // other branch does not stop the deployment.
    case 'if': {
      const [condition, whenTrue, whenFalse] = argExprs;
      if (condition === undefined || whenTrue === undefined || whenFalse === undefined)
        throw new TemplateError('if() takes three arguments');
      const chosen = env.evaluateExpr(condition, scope) === true ? whenTrue : whenFalse;
      return env.evaluateExpr(chosen, scope);
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
      if (!(key in scope.parameters)) throw new TemplateError(`parameters('${key}'): not declared`);
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
      if (values.length % 2 !== 0) throw new TemplateError('createObject: odd number of arguments');
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
      return { tenantId: env.context.tenantId };
    case 'subscription':
      return {
        id: `/subscriptions/${env.context.subscriptionId}`,
        subscriptionId: env.context.subscriptionId,
        tenantId: env.context.tenantId,
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
      return env.resourceId(scope, type, names);
    }
    case 'subscriptionresourceid': {
      const [type, ...names] = args().map((a) => asString(a, 'subscriptionResourceId argument'));
      return env.resourceId({ resourceGroup: undefined }, type ?? '', names);
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
      return env.evaluate(userFunction.output.value, {
        ...scope,
        parameters: bound,
        variables: {},
      });
    }
  }
}
