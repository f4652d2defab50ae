import { readFileSync } from 'node:fs';
import { defineConfig, type Plugin } from 'vitest/config';

/**
 * GitHub's workflow parser imports its JSON schema without an import attribute, which Node
 * refuses, so vitest transforms it (server.deps.inline). Its published source maps point to
 * sources it does not ship: this loads its files without them, instead of a warning per file.
 */
const workflowParserWithoutSourceMaps: Plugin = {
  name: 'workflow-parser-without-source-maps',
  enforce: 'pre',
  load(id) {
    if (!/[\\/]@actions[\\/]workflow-parser[\\/]dist[\\/].*\.js$/.test(id)) return null;
    return {
      code: readFileSync(id, 'utf8').replace(/^\/\/# sourceMappingURL=.*$/m, ''),
      map: null,
    };
  },
};

export default defineConfig({
  plugins: [workflowParserWithoutSourceMaps],
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    globalSetup: ['test/support/build.ts'],
    pool: 'forks',
    testTimeout: 20_000,
    hookTimeout: 30_000,
    restoreMocks: true,
    server: { deps: { inline: ['@actions/workflow-parser'] } },
    // After the totals: every skipped test and why (test/support/skip-summary.ts).
    reporters: ['default', './test/support/skip-summary.ts'],
  },
});
