import { execFileSync } from 'node:child_process';
import path from 'node:path';

/**
 * Vitest global setup: compile the app and the scripts once, so that tests which start the
 * built-in host, the identity stand-in or the gateway as child processes run the code under test.
 */
export default function build(): void {
  const root = path.resolve(__dirname, '../..');
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
}
