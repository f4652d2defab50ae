// Mutation testing of the auth code: `npm run test:mutation` (docs/testing.md).
// StrykerJS 10 (package.json), which needs Node 22 or later like the project itself.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  // Every test file of that configuration, not only those vitest finds related through static
  // imports: test/functions/auth/register.test.ts loads the module afresh with a dynamic import,
  // which vitest's related files do not follow.
  vitest: { configFile: 'stryker/vitest.config.mts', related: false },
  // The auth layer and the helpers it is built on (the GUID pattern, ensureError, problem bodies).
  // jsonwebtoken and jwks-rsa are not mutated: libraries.ts only re-exports them.
  mutate: ['functions/auth/**/*.ts', '!functions/auth/libraries.ts', 'functions/lib/**/*.ts'],
  coverageAnalysis: 'perTest',
  // A rerun only tests mutants whose code or covering tests changed.
  incremental: true,
  incrementalFile: 'reports/mutation/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  ignorePatterns: ['dist', 'coverage', '.local', '.azure', 'reports'],
  concurrency: 2,
  // A static mutant (module-level code) reruns every test of the configuration, some 15 to 20 s;
  // at 5 s, mutants that fail a late test were reported as timed out instead of killed.
  timeoutMS: 20_000,
  // CI (.ci/run) fails under 95 for the whole run; the token checks' files must score 100, which
  // `npm run test:mutation:gate` (scripts/dev/mutation-gate.ts) checks on the JSON report.
  thresholds: { high: 100, low: 95, break: 95 },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
