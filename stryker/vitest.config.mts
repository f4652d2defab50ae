// The tests Stryker runs against each mutant: the unit tests that import the auth code in-process.
// The whole suite cannot run under Stryker's runner (some tests start child processes and signal
// their process groups), and tests that talk to the built app in a child process cannot see a
// mutant anyway.
import path from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: path.resolve(import.meta.dirname, '..'),
  test: {
    include: ['test/functions/**/*.test.ts'],
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 30_000,
    restoreMocks: true,
  },
});
