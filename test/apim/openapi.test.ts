import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { openApiOperations, openApiProblems } from './openapi-checks';
import { readApim } from './policy-checks';

const text = readApim('openapi.yaml');

interface Operation {
  operationId: string;
  responses: Record<string, unknown>;
  parameters: { required?: boolean }[];
}

/** The parts of the document the mutations change (optional where a mutation deletes them). */
interface Document {
  openapi: string;
  paths: {
    '/hello': { get: Operation; post?: Operation };
    '/whoami'?: { get: { responses: Record<string, unknown> } };
  };
  components: {
    schemas: {
      Problem: { properties: { code?: unknown } };
      Caller: { properties: { expiresAt?: unknown } };
    };
    securitySchemes: { subscriptionKeyQuery?: unknown };
  };
}

/** A copy of the document with `change` applied to its parsed form. */
function mutate(change: (document: Document) => void): string {
  const document = parse(text) as Document;
  change(document);
  return stringify(document);
}

describe('apim/openapi.yaml', () => {
  it('declares every operation with an operationId, 200/401/403/503 and problem bodies, and the subscription key', () => {
    expect(openApiProblems(text)).toEqual([]);
  });

  it('lists its operations for the check against the registered functions', () => {
    const operations = openApiOperations(text);
    expect(operations.length).toBeGreaterThan(0);
    expect(operations.every((o) => typeof o.operationId === 'string')).toBe(true);
  });
});

const mutations: [string, string, RegExp][] = [
  ['OpenAPI 3.1', mutate((d) => (d.openapi = '3.1.0')), /3\.0\.x/],
  [
    'no 503 on whoami',
    mutate((d) => delete d.paths['/whoami']!.get.responses['503']),
    /GET \/whoami has no 503/,
  ],
  [
    '403 without a problem body',
    mutate((d) => (d.paths['/hello'].get.responses['403'] = { description: 'Forbidden' })),
    /GET \/hello 403 is not an application\/problem\+json/,
  ],
  [
    'problem schema without code',
    mutate((d) => delete d.components.schemas.Problem.properties.code),
    /code/,
  ],
  [
    'operationId removed',
    mutate((d) => delete (d.paths['/hello'].get as Partial<Operation>).operationId),
    /get \/hello has no operationId/,
  ],
  [
    'an operationId used twice',
    mutate((d) => (d.paths['/hello'].post = d.paths['/hello'].get)),
    /operationId "hello" is used twice/,
  ],
  [
    'name required',
    mutate((d) => (d.paths['/hello'].get.parameters[0]!.required = true)),
    /"name"/,
  ],
  [
    'whoami without expiresAt',
    mutate((d) => delete d.components.schemas.Caller.properties.expiresAt),
    /expiresAt/,
  ],
  [
    'query key scheme removed',
    mutate((d) => delete d.components.securitySchemes.subscriptionKeyQuery),
    /subscription-key query/,
  ],
];

describe('the OpenAPI check catches a broken contract', () => {
  it.each(mutations)('%s', (_what, mutated, expected) => {
    expect(mutated).not.toBe(text);
    expect(openApiProblems(mutated).join('\n')).toMatch(expected);
  });
});
