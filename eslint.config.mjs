// Typed linting for the app, the scripts and the tests; formatting is Prettier's job.
import js from '@eslint/js';
import vitest from '@vitest/eslint-plugin';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      '.hooks/**',
      '.package/**',
      'node_modules/**',
      'coverage/**',
      '.local/**',
      '.azure/**',
      'reports/**',
      '.stryker-tmp/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.mjs', '*.mts'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      'no-console': 'off',
    },
  },
  {
    // Handlers get configuration and the caller from the auth layer, never from the environment,
    // and every trigger is registered through secureHttp (functions/auth/register.ts).
    files: ['functions/**/*.ts'],
    ignores: ['functions/auth/**'],
    rules: {
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: 'Read configuration in functions/auth/config.ts.',
        },
        { object: 'app', property: 'http', message: 'Register triggers with secureHttp().' },
        { object: 'app', property: 'get', message: 'Register triggers with secureHttp().' },
        { object: 'app', property: 'post', message: 'Register triggers with secureHttp().' },
        { object: 'app', property: 'put', message: 'Register triggers with secureHttp().' },
        { object: 'app', property: 'patch', message: 'Register triggers with secureHttp().' },
        {
          object: 'app',
          property: 'deleteRequest',
          message: 'Register triggers with secureHttp().',
        },
      ],
    },
  },
  {
    // A function takes the auth layer through functions/auth/register.ts alone: the build bundles
    // the layer into that one file (scripts/build/bundle.mjs), so a value imported from another of
    // its modules would be a second copy. Types may come from any of them.
    files: ['functions/**/*.ts'],
    ignores: ['functions/auth/**', 'functions/telemetry/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)(auth/(?!register$)|telemetry/)',
              allowTypeImports: true,
              message:
                'Import the auth layer from ./auth/register: the build bundles it into that file (types may come from any module).',
            },
          ],
        },
      ],
    },
  },
  {
    // The npm scripts' launcher (scripts/local/shared/launch.cjs) is plain CommonJS, so that it runs
    // before any build; it is outside the TypeScript project.
    files: ['**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      sourceType: 'commonjs',
      globals: {
        require: 'readonly',
        process: 'readonly',
        console: 'readonly',
        __dirname: 'readonly',
      },
    },
    rules: {
      ...tseslint.configs.disableTypeChecked.rules,
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  {
    // Assertions that can pass whatever the code does (test/quality/lint-rules.test.ts proves each
    // rule fires; test/quality/assertion-checks.ts has the checks this plugin cannot express).
    files: ['test/**/*.ts'],
    ignores: ['test/support/fixtures/**'],
    plugins: { vitest },
    rules: {
      'vitest/no-restricted-matchers': ['error', weakMatchers()],
      'vitest/expect-expect': [
        'error',
        { assertFunctionNames: ['expect', 'expect*', 'fc.assert'] },
      ],
      'vitest/valid-expect': ['error', { maxArgs: 2 }],
    },
  },
  {
    files: ['**/*.mjs', '**/*.mts'],
    ...tseslint.configs.disableTypeChecked,
  },
  prettier,
);

/** toBeTruthy() and toBeFalsy() with every modifier: they pass for any truthy or falsy value. */
function weakMatchers() {
  const message =
    'passes for any truthy/falsy value (the exit code of a crash, any string): assert the value itself';
  const chains = {};
  for (const matcher of ['toBeTruthy', 'toBeFalsy']) {
    for (const modifier of ['', 'not.', 'resolves.', 'rejects.', 'resolves.not.', 'rejects.not.']) {
      chains[`${modifier}${matcher}`] = `${matcher}() ${message}`;
    }
  }
  return chains;
}
