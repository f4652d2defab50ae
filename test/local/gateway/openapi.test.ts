import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { OpenApiLoadError } from '../../../scripts/local/gateway/errors';
import { matchOperation, parseOpenApi } from '../../../scripts/local/gateway/openapi';
import { openApiOperations } from '../../apim/openapi-checks';
import { APIM_DIR } from './support';

const text = fs.readFileSync(path.join(APIM_DIR, 'openapi.yaml'), 'utf8');
const shipped = parseOpenApi(text, 'openapi.yaml');

describe('routing from apim/openapi.yaml', () => {
  it('routes exactly the operations the document declares, the shipped two among them', () => {
    const routed = shipped.operations.map((o) => `${o.method} ${o.pathTemplate} ${o.operationId}`);
    expect(routed).toEqual(
      openApiOperations(text).map(
        (o) => `${o.method.toUpperCase()} ${o.path} ${String(o.operationId)}`,
      ),
    );
    expect(routed).toEqual(expect.arrayContaining(['GET /hello hello', 'GET /whoami whoami']));
  });

  it.each([
    ['GET', '/hello', 'hello'],
    ['GET', '/whoami', 'whoami'],
    ['POST', '/hello', undefined],
    ['HEAD', '/hello', undefined],
    ['GET', '/hello/', undefined],
    ['GET', '/HELLO', undefined],
    ['GET', '/hello/extra', undefined],
    ['GET', '/', undefined],
    ['GET', '/admin', undefined],
  ])('%s %s -> %s', (method, route, operationId) => {
    expect(matchOperation(shipped, method, route)?.operationId).toBe(operationId);
  });
});

describe('parseOpenApi', () => {
  const doc = (paths: string) =>
    `openapi: 3.0.3\ninfo: { title: t, version: '1' }\npaths:\n${paths}`;

  it('matches path templates one segment per parameter', () => {
    const api = parseOpenApi(doc('  /items/{id}:\n    get: { operationId: item }\n'), 'x.yaml');
    expect(matchOperation(api, 'GET', '/items/42')?.operationId).toBe('item');
    expect(matchOperation(api, 'GET', '/items/42/more')).toBeUndefined();
    expect(matchOperation(api, 'GET', '/items/')).toBeUndefined();
  });

  it.each([
    ['/items/..', undefined],
    ['/items/%2e%2e', undefined],
    ['/items/%2E', undefined],
    ['/items/%zz', undefined],
    ['/items/a%2Fb', 'item'],
    ['/items/4%32', 'item'],
  ])('matches decoded segments and never a dot-segment: %s -> %s', (route, operationId) => {
    const api = parseOpenApi(doc('  /items/{id}:\n    get: { operationId: item }\n'), 'x.yaml');
    expect(matchOperation(api, 'GET', route)?.operationId).toBe(operationId);
  });

  it.each([
    ['not YAML', 'openapi: [', /not valid YAML/],
    ['Swagger 2', 'swagger: "2.0"\npaths: {}', /OpenAPI 3\.0\.x/],
    ['OpenAPI 3.1', 'openapi: 3.1.0\npaths: {}', /OpenAPI 3\.0\.x/],
    ['no operationId', doc('  /a:\n    get: { summary: a }\n'), /GET \/a has no operationId/],
    [
      'a duplicate operationId',
      doc('  /a:\n    get: { operationId: a }\n  /b:\n    get: { operationId: a }\n'),
      /used twice/,
    ],
    ['no operations', doc('  /a: {}\n'), /no operations/],
  ])('refuses %s', (_what, text, message) => {
    expect(() => parseOpenApi(text, 'x.yaml')).toThrow(OpenApiLoadError);
    expect(() => parseOpenApi(text, 'x.yaml')).toThrow(message);
  });
});
