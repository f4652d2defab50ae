/**
 * The build bundles the auth layer into dist/functions/auth/register.js (scripts/build/bundle.mjs),
 * so that a new instance loads one file. The bundle must hold every module of the layer and its
 * libraries, and leave `@azure/functions` to the one copy the worker and the triggers share.
 */
import { builtinModules } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');
const BUNDLE = path.join(ROOT, 'dist', 'functions', 'auth', 'register.js');

/** The module names the file requires, as esbuild writes them (`require("name")`). */
function requiredBy(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  return [...new Set([...text.matchAll(/\brequire\("([^"]+)"\)/g)].map((m) => m[1]!))].sort();
}

describe('the auth layer bundle', () => {
  it('requires only @azure/functions and modules of Node itself', () => {
    const required = requiredBy(BUNDLE);
    expect(required).toContain('@azure/functions');
    const others = required.filter(
      (name) => name !== '@azure/functions' && !builtinModules.includes(name.replace(/^node:/, '')),
    );
    expect(others).toEqual([]);
  });

  it('holds the libraries, not a require of them', () => {
    const text = fs.readFileSync(BUNDLE, 'utf8');
    // jwks-rsa's own error text and jsonwebtoken's verify error text are inside the file.
    expect(text).toContain('The JWKS endpoint did not contain any keys');
    expect(text).toContain('jwt audience invalid');
    // jsonwebtoken is given the semver stand-in, not semver (scripts/build/bundle.mjs).
    expect(text).toContain('not one it answers');
    expect(text).not.toContain('Invalid Version');
    // jsonwebtoken's sign is not loaded (functions/auth/libraries.ts imports verify alone).
    expect(text).not.toContain('"expiresIn" should be a number of seconds');
  });

  it('is what a function file loads', () => {
    expect(requiredBy(path.join(ROOT, 'dist', 'functions', 'hello.js'))).toContain(
      './auth/register',
    );
  });
});
