import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matchFiles } from '../../../scripts/local/host/glob';
import { compareRoutes, matchRoute, parseRouteTemplate } from '../../../scripts/local/host/routes';

describe('matchFiles (package.json main)', () => {
  let root: string;
  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'glob-'));
    for (const file of [
      'dist/functions/b.js',
      'dist/functions/a.js',
      'dist/functions/a.js.map',
      'dist/functions/auth/x.js',
      'dist/functions/deep/er/y.js',
      'dist/other.js',
    ]) {
      fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
      fs.writeFileSync(path.join(root, file), '');
    }
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  const rel = (files: string[]) =>
    files.map((file) => path.relative(root, file).split(path.sep).join('/'));

  it.each([
    ['dist/functions/*.js', ['dist/functions/a.js', 'dist/functions/b.js']],
    ['./dist/functions/*.js', ['dist/functions/a.js', 'dist/functions/b.js']],
    ['dist/functions/?.js', ['dist/functions/a.js', 'dist/functions/b.js']],
    ['dist/functions/a.js', ['dist/functions/a.js']],
    ['dist/*/*.js', ['dist/functions/a.js', 'dist/functions/b.js']],
    [
      'dist/**/*.js',
      [
        'dist/functions/a.js',
        'dist/functions/auth/x.js',
        'dist/functions/b.js',
        'dist/functions/deep/er/y.js',
        'dist/other.js',
      ],
    ],
    ['dist/functions/**/y.js', ['dist/functions/deep/er/y.js']],
    ['dist/nothing/*.js', []],
  ])('%s', (pattern, expected) => {
    expect(rel(matchFiles(root, pattern))).toEqual(expected);
  });

  it.each([['/etc/*.conf'], ['../*.js'], ['']])('refuses %j', (pattern) => {
    expect(() => matchFiles(root, pattern)).toThrow(TypeError);
  });
});

describe('route templates', () => {
  it.each([
    ['hello', ['hello'], {}],
    ['hello', ['HELLO'], {}],
    ['/items/{id}/', ['items', 'Abc'], { id: 'Abc' }],
    ['items/{id?}', ['items'], {}],
    ['items/{id?}', ['items', '1'], { id: '1' }],
    ['a/{x?}/{y?}', ['a', '1'], { x: '1' }],
  ])('%s matches %j', (template, path, params) => {
    expect(matchRoute(parseRouteTemplate(template), path)).toEqual(params);
  });

  it.each([
    ['hello', ['hello', 'x']],
    ['hello', []],
    ['items/{id}', ['items']],
    ['items/{id}', ['items', '']],
    ['items/{id}', ['other', '1']],
  ])('%s does not match %j', (template, path) => {
    expect(matchRoute(parseRouteTemplate(template), path)).toBeUndefined();
  });

  it.each([
    ['a//b'],
    ['{id:int}'],
    ['file.{ext}'],
    ['{*rest}'],
    ['{a?}/b'],
    ['{a?}/{b}'],
    ['{x}/{X}'],
  ])('refuses %s', (template) => {
    expect(() => parseRouteTemplate(template)).toThrow(TypeError);
  });

  it('orders literals before parameters before optional parameters', () => {
    const templates = ['items/{id?}', 'items/{id}', 'items/special'].map(parseRouteTemplate);
    expect(templates.sort(compareRoutes).map((route) => route.template)).toEqual([
      'items/special',
      'items/{id}',
      'items/{id?}',
    ]);
  });
});
