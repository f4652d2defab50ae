/**
 * The bundle gives jwks-rsa a stand-in for debug (scripts/build/debug-for-jwks-rsa.cjs): without
 * DEBUG set, loggers that write nothing, as debug's would; with DEBUG set, debug itself.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { localFunctionAppSettings } from '../../scripts/local/shared/environment';
import { packageSources } from './support';

const ROOT = path.resolve(__dirname, '../..');
const JWKS_RSA = path.join(
  path.dirname(require.resolve('jwks-rsa/package.json', { paths: [ROOT] })),
  'src',
);
const STAND_IN = path.join(ROOT, 'scripts', 'build', 'debug-for-jwks-rsa.cjs');
const DEBUG = require.resolve('debug', { paths: [ROOT] });
const BUNDLE = path.join(ROOT, 'dist', 'functions', 'auth', 'register.js');
const CORE_API = path.join(ROOT, 'dist', 'scripts', 'local', 'host', 'core-api.js');

/** Runs `code` in a new Node with `env` (and PATH) only; its exit status, stdout and stderr. */
function run(code: string, env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, ['-e', code], {
    env: { PATH: process.env.PATH, ...env },
    encoding: 'utf8',
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('the debug stand-in the bundle gives jwks-rsa', () => {
  it("covers every use jwks-rsa makes of debug: require('debug')('jwks'), then calls", () => {
    const uses = packageSources(JWKS_RSA).flatMap((file) => {
      const text = fs.readFileSync(file, 'utf8');
      return [...text.matchAll(/require\('debug'\)[^;\n]*/g)].map((m) => m[0]);
    });
    expect(uses.length).toBeGreaterThan(0);
    expect(new Set(uses)).toEqual(new Set(["require('debug')('jwks')"]));
    const otherUses = packageSources(JWKS_RSA).filter((file) =>
      /\blogger\.\w/.test(fs.readFileSync(file, 'utf8')),
    );
    expect(otherUses).toEqual([]);
  });

  it('without DEBUG, gives a logger that writes nothing, as debug itself does', () => {
    const out = run(
      `const standIn = require(${JSON.stringify(STAND_IN)});
       const logger = standIn('jwks');
       logger('Fetching keys from %s', 'https://example.test/keys');
       process.stdout.write(JSON.stringify({
         same: standIn === require(${JSON.stringify(DEBUG)}),
         enabled: logger.enabled,
       }));
       // debug itself, in the same environment, writes nothing either.
       require(${JSON.stringify(DEBUG)})('jwks')('Fetching keys from %s', 'https://example.test/keys');`,
    );
    expect(out.stderr).toBe('');
    expect(JSON.parse(out.stdout)).toEqual({ same: false, enabled: false });
  });

  it('with DEBUG set, is debug itself', () => {
    const out = run(
      `const standIn = require(${JSON.stringify(STAND_IN)});
       process.stdout.write(String(standIn === require(${JSON.stringify(DEBUG)})));
       standIn('jwks')('Fetching keys');`,
      { DEBUG: 'jwks' },
    );
    expect(out.stdout).toBe('true');
    expect(out.stderr).toMatch(/jwks Fetching keys/);
  });

  it.each([
    ['without DEBUG', {}, ''],
    ['with DEBUG=jwks', { DEBUG: 'jwks' }, 'jwks Configured caching of signing keys'],
  ])("the built auth layer writes jwks-rsa's debug lines only %s", (_name, env, expected) => {
    const out = run(
      `const core = require(${JSON.stringify(CORE_API)});
       core.collectRegistrations(() => {
         require(${JSON.stringify(BUNDLE)}).secureHttp('probe', { methods: ['GET'], route: 'probe', handler: () => ({}) });
       });
       process.exit(0);`,
      { ...localFunctionAppSettings('http://127.0.0.1:9'), ...env },
    );
    expect(out.status).toBe(0);
    if (expected) expect(out.stderr).toContain(expected);
    else expect(out.stderr).toBe('');
  });
});
