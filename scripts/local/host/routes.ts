import type { HttpMethod } from '@azure/functions';

type Segment =
  | { readonly kind: 'literal'; readonly value: string }
  | { readonly kind: 'parameter'; readonly name: string; readonly optional: boolean };

export interface RouteTemplate {
  readonly template: string;
  readonly segments: readonly Segment[];
}

/**
 * Parses a Functions route template (`hello`, `items/{id}`, `items/{id?}`). Literal segments match
 * case-insensitively, like the Functions host; `{name}` takes one segment; `{name?}` may be left
 * out, at the end only. Other template syntax is refused with a TypeError naming the route.
 */
export function parseRouteTemplate(template: string): RouteTemplate {
  const parts = template.replace(/^\/+|\/+$/g, '').split('/');
  const names = new Set<string>();
  let optionalSeen = false;
  const segments = parts.map((part): Segment => {
    if (part === '') throw new TypeError(`Route "${template}" has an empty segment.`);
    const parameter = /^\{([A-Za-z_][A-Za-z0-9_]*)(\?)?\}$/.exec(part);
    if (parameter) {
      const name = parameter[1]!;
      if (names.has(name.toLowerCase()))
        throw new TypeError(`Route "${template}" names {${name}} twice.`);
      names.add(name.toLowerCase());
      const optional = parameter[2] === '?';
      if (!optional && optionalSeen) {
        throw new TypeError(
          `Route "${template}": an optional parameter may only be followed by optional ones.`,
        );
      }
      optionalSeen ||= optional;
      return { kind: 'parameter', name, optional };
    }
    if (/[{}]/.test(part)) {
      throw new TypeError(
        `Route "${template}" uses template syntax the built-in host does not support ("${part}"); use {name} or {name?} as a whole segment.`,
      );
    }
    if (optionalSeen) {
      throw new TypeError(
        `Route "${template}": an optional parameter may only be followed by optional ones.`,
      );
    }
    return { kind: 'literal', value: part.toLowerCase() };
  });
  return { template, segments };
}

/** The route parameters when `path` (decoded segments below the route prefix) matches, else undefined. */
export function matchRoute(
  route: RouteTemplate,
  path: readonly string[],
): Record<string, string> | undefined {
  if (path.length > route.segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < route.segments.length; i++) {
    const segment = route.segments[i]!;
    const value = path[i];
    if (value === undefined) {
      if (segment.kind === 'parameter' && segment.optional) continue;
      return undefined;
    }
    if (segment.kind === 'literal') {
      if (value.toLowerCase() !== segment.value) return undefined;
    } else {
      if (value === '') return undefined;
      params[segment.name] = value;
    }
  }
  return params;
}

/** Sort order among routes that match the same path: literals before parameters, required before optional. */
export function compareRoutes(a: RouteTemplate, b: RouteTemplate): number {
  const rank = (segment: Segment | undefined): number =>
    segment === undefined ? -1 : segment.kind === 'literal' ? 0 : segment.optional ? 2 : 1;
  const length = Math.max(a.segments.length, b.segments.length);
  for (let i = 0; i < length; i++) {
    const difference = rank(a.segments[i]) - rank(b.segments[i]);
    if (difference !== 0) return difference;
  }
  return 0;
}

export function normaliseMethods(methods: readonly string[]): HttpMethod[] {
  return [...new Set(methods.map((method) => method.toUpperCase() as HttpMethod))];
}
