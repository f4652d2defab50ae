import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Vitest global setup: compile the app and the scripts once, into an emptied dist/, so that tests
 * which start the built-in host, the identity stand-in or the gateway as child processes run the
 * code under test.
 * Type errors are reported but do not stop the run (tsc still emits; `npm test` type-checks first);
 * any other failure does.
 */
export default function build(): void {
  const root = path.resolve(__dirname, '../..');
  const tsc = require.resolve('typescript/bin/tsc');
  // As `npm run build` does: no compiled file may outlive its source.
  fs.rmSync(path.join(root, 'dist'), { recursive: true, force: true });
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (result.status === 2) {
    console.warn('tsc reported type errors (see above); running the tests on the emitted code.');
  } else if (result.status !== 0) {
    throw new Error(
      `Building the app failed (tsc exit ${String(result.status ?? result.signal)}).`,
    );
  }
  // As `npm run build` does: the tests run the auth layer bundle the app deploys.
  const bundle = spawnSync(process.execPath, ['scripts/build/bundle.mjs'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (bundle.status !== 0) {
    throw new Error(
      `Bundling the auth layer failed (exit ${String(bundle.status ?? bundle.signal)}).`,
    );
  }
}
