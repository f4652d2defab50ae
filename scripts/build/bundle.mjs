// The last step of `npm run build` (and of the tests' build, test/support/build.ts): replaces
// dist/functions/auth/libraries.js, tsc's output of functions/auth/libraries.ts, with one bundle of
// jsonwebtoken and jwks-rsa, so that a new instance loads one file instead of some hundred modules
// (docs/token-validation.md, "Loading the libraries"). jwks-rsa is taken without its framework
// integrations (src/JwksClient.js) and given only the two functions of jose it calls.
import { buildSync } from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
buildSync({
  absWorkingDir: root,
  entryPoints: ['functions/auth/libraries.ts'],
  outfile: 'dist/functions/auth/libraries.js',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: true,
  sourcemap: true,
  allowOverwrite: true,
  logLevel: 'warning',
  alias: {
    jose: './scripts/build/jose-for-jwks-rsa.mjs',
    'jwks-rsa': 'jwks-rsa/src/JwksClient',
    'supports-color': './scripts/build/no-supports-color.cjs',
  },
});
