// The last step of `npm run build` (and of the tests' build, test/support/build.ts): replaces
// dist/functions/auth/register.js, tsc's output of functions/auth/register.ts, with one bundle of
// the auth layer (the modules register.ts imports, from functions/auth, functions/telemetry and
// functions/lib) and the libraries it uses (jsonwebtoken's verify, jwks-rsa). A new instance then
// loads one file instead of some hundred modules (docs/token-validation.md, "Loading the auth
// layer"). `@azure/functions` stays outside: the app's triggers and the auth layer must register
// with the one copy the worker loads. jwks-rsa is taken without its framework integrations
// (src/JwksClient.js), given only the two functions of jose it calls, and its logger is debug's
// only when DEBUG is set (debug-for-jwks-rsa.cjs); jsonwebtoken is given the one semver function
// it calls (semver-for-jsonwebtoken.cjs).
import { buildSync } from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
buildSync({
  absWorkingDir: root,
  entryPoints: ['functions/auth/register.ts'],
  outfile: 'dist/functions/auth/register.js',
  bundle: true,
  external: ['@azure/functions'],
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  minify: true,
  sourcemap: true,
  allowOverwrite: true,
  logLevel: 'warning',
  alias: {
    debug: './scripts/build/debug-for-jwks-rsa.cjs',
    jose: './scripts/build/jose-for-jwks-rsa.mjs',
    'jwks-rsa': 'jwks-rsa/src/JwksClient',
    semver: './scripts/build/semver-for-jsonwebtoken.cjs',
    'supports-color': './scripts/build/no-supports-color.cjs',
  },
});
