import { describe, expect, it } from 'vitest';
import { appRoleId, applicationUniqueName, uuidV5 } from '../../../scripts/azd/hooks/names';

const SUB_A = '0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d';
const SUB_B = '9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a';

describe('applicationUniqueName', () => {
  it('is stable for one environment and subscription', () => {
    expect(applicationUniqueName('dev', SUB_A)).toBe(
      applicationUniqueName('dev', SUB_A.toUpperCase()),
    );
    expect(applicationUniqueName('dev', SUB_A)).toMatch(/^functions-behind-apim-dev-[0-9a-f]{8}$/);
  });

  it('differs between environments and between subscriptions', () => {
    const names = new Set([
      applicationUniqueName('dev', SUB_A),
      applicationUniqueName('dev', SUB_B),
      applicationUniqueName('dev2', SUB_A),
      applicationUniqueName('prod', SUB_A),
    ]);
    expect(names.size).toBe(4);
  });

  it('does not write the subscription id into the directory', () => {
    expect(applicationUniqueName('dev', SUB_A)).not.toContain(SUB_A.slice(0, 8));
  });

  it.each(["dev'; drop", 'a/b', '', '-dev', 'x'.repeat(65)])(
    'refuses the environment name %j',
    (name) => {
      expect(() => applicationUniqueName(name, SUB_A)).toThrow(/AZURE_ENV_NAME/);
    },
  );

  it('refuses a subscription id that is not a GUID', () => {
    expect(() => applicationUniqueName('dev', 'my-subscription')).toThrow(/AZURE_SUBSCRIPTION_ID/);
  });
});

describe('appRoleId', () => {
  it('is a version 5 UUID derived from the uniqueName, the same on every run', () => {
    const id = appRoleId(applicationUniqueName('dev', SUB_A));
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(appRoleId(applicationUniqueName('dev', SUB_A))).toBe(id);
    expect(appRoleId(applicationUniqueName('prod', SUB_A))).not.toBe(id);
  });

  it('implements RFC 9562 version 5 (its published example)', () => {
    // RFC 9562 appendix A.4: the DNS namespace and "www.example.com".
    expect(uuidV5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'www.example.com')).toBe(
      '2ed6657d-e927-568b-95e1-2665a8aea6a2',
    );
  });
});
