import { describe, expect, it } from 'vitest';
import { PolicyFailure } from '../../../../scripts/local/gateway/failure';
import { compileOne, execution, failureOf } from './support';

/** `check-header` against learn.microsoft.com/azure/api-management/check-header-policy. */

function checkHeader(ignoreCase: boolean, values: string[] = []): string {
  return [
    `<check-header name="X-Client" failed-check-httpcode="401" failed-check-error-message="Not authorized" ignore-case="${ignoreCase}">`,
    ...values.map((value) => `<value>${value}</value>`),
    '</check-header>',
  ].join('');
}

function withHeader(value?: string) {
  const context = execution();
  if (value !== undefined) context.state.request.headers.set('x-client', [value]);
  return context;
}

describe('check-header', () => {
  it('refuses a request without the header: its status and message, reason HeaderNotFound', async () => {
    const failure = (await failureOf(
      compileOne(checkHeader(false), 'api'),
      withHeader(),
    )) as PolicyFailure;
    expect(failure).toBeInstanceOf(PolicyFailure);
    expect([failure.source, failure.reason, failure.response.status]).toEqual([
      'check-header',
      'HeaderNotFound',
      401,
    ]);
    expect(JSON.parse(failure.response.body.toString())).toEqual({
      statusCode: 401,
      message: 'Not authorized',
    });
  });

  it('lets any value through when it lists none', async () => {
    await expect(
      Promise.resolve(compileOne(checkHeader(false), 'api').run(withHeader('anything'))),
    ).resolves.toBeUndefined();
  });

  it('refuses a value it does not list (HeaderValueNotAllowed), comparing case as ignore-case says', async () => {
    const exact = compileOne(checkHeader(false, ['Alpha', 'Beta']), 'api');
    await exact.run(withHeader('Beta'));
    const failure = (await failureOf(exact, withHeader('beta'))) as PolicyFailure;
    expect(failure.reason).toBe('HeaderValueNotAllowed');
    await compileOne(checkHeader(true, ['Alpha', 'Beta']), 'api').run(withHeader('beta'));
  });

  it('is named and skipped without its required attributes', () => {
    expect(() =>
      compileOne(
        '<check-header name="X" failed-check-httpcode="401" failed-check-error-message="m" />',
        'api',
      ),
    ).toThrow(/not run locally: <check-header> needs a non-empty "ignore-case"/);
  });
});
