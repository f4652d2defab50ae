/**
 * `npm run test:mutation` works from a clean clone: Stryker loads its configuration, runs the
 * vitest configuration of its own against one small module of the auth layer's helpers, kills
 * every mutant and clears the break threshold. The full run (every file under functions/auth and
 * functions/lib) takes too long for `npm test`; docs/testing.md says how to run it.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..', '..');
const run = promisify(execFile);
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'stryker-probe-'));

afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

describe('npm run test:mutation', () => {
  it('kills every mutant of functions/lib/errors.ts and clears thresholds.break', async () => {
    const { stdout } = await run(
      'npm',
      [
        'run',
        '-s',
        'test:mutation',
        '--',
        '--mutate',
        'functions/lib/errors.ts',
        '--force',
        '--incrementalFile',
        path.join(scratch, 'incremental.json'),
        '--reporters',
        'clear-text',
      ],
      { cwd: ROOT, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, FORCE_COLOR: '0' } },
    );
    expect(stdout).toMatch(/^ errors\.ts\s+\|\s+100\.00 \|/m);
    expect(stdout).toMatch(/Final mutation score of 100\.00 is greater than or equal to break/);
  }, 180_000);
});
