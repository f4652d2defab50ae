/**
 * The lint rules for the app's function files (eslint.config.mjs): a trigger is registered through
 * secureHttp(), configuration is read by the auth layer, and the auth layer is imported through
 * functions/auth/register.ts alone (the build bundles it into that file).
 */
import path from 'node:path';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');
const RULES = new Set(['no-restricted-properties', '@typescript-eslint/no-restricted-imports']);

let eslint: ESLint;

beforeAll(async () => {
  // The repository's own eslint.config.mjs, with only these rules on (they need no type
  // information, so the TypeScript project is not loaded).
  eslint = new ESLint({
    cwd: ROOT,
    ruleFilter: ({ ruleId }) => RULES.has(ruleId),
    overrideConfig: { languageOptions: { parserOptions: { projectService: false } } },
  });
  await eslint.lintText('', { filePath: path.join(ROOT, 'functions/hello.ts') });
}, 60_000);

/** The messages of the rules above for `text` linted as the file `file` of the project. */
async function messages(text: string, file = 'functions/orders.ts'): Promise<string[]> {
  const [result] = await eslint.lintText(text, { filePath: path.join(ROOT, file) });
  return result!.messages.map((m) => `${m.ruleId ?? ''}: ${m.message}`);
}

describe('the lint rules for function files', () => {
  it.each([
    ['secureHttp from ./auth/register', `import { secureHttp } from './auth/register';`],
    ['a type from another auth module', `import type { Caller } from './auth/caller';`],
    ['a helper of functions/lib', `import { problem } from './lib/problem';`],
    ['the register module from a subfolder', `import { secureHttp } from '../auth/register';`],
  ])('accept %s', async (_name, text) => {
    expect(await messages(text)).toEqual([]);
  });

  it.each([
    ['a value from another auth module', `import { AuthError } from './auth/errors';`],
    ['a value from a subfolder', `import { loadAuthConfig } from '../auth/config';`],
    ['the auth layer telemetry', `import { recordRefusal } from './telemetry/refusal-record';`],
  ])('refuse %s', async (_name, text) => {
    const found = await messages(text);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^@typescript-eslint\/no-restricted-imports: .*\.\/auth\/register/);
  });

  it('leave the auth layer free to import its own modules', async () => {
    const text = `import { AuthError } from '../auth/errors';`;
    expect(await messages(text, 'functions/telemetry/extra.ts')).toEqual([]);
    expect(await messages(`import { AuthError } from './errors';`, 'functions/auth/x.ts')).toEqual(
      [],
    );
  });

  it.each([
    ['app.http', `import { app } from '@azure/functions'; app.http('x', {} as never);`],
    ['process.env', `export const tenant = process.env.AUTH_TENANT_ID;`],
  ])('refuse %s', async (_name, text) => {
    expect(await messages(text)).toEqual([
      expect.stringMatching(/^no-restricted-properties: /) as string,
    ]);
  });
});
