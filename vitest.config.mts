import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    globalSetup: ['test/support/build.ts'],
    pool: 'forks',
    testTimeout: 20_000,
    hookTimeout: 30_000,
    restoreMocks: true,
    // After the totals: every skipped test and why (test/support/skip-summary.ts).
    reporters: ['default', './test/support/skip-summary.ts'],
  },
});
