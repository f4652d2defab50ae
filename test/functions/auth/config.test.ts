import { describe, expect, it } from 'vitest';
import { loadAuthConfig } from '../../../functions/auth/config';
import { ConfigError } from '../../../functions/auth/errors';

const TENANT = '72F988BF-86F1-41AF-91AB-2D7CD011DB47';
const APIM = '0A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D';
const minimal = {
  AUTH_TENANT_ID: TENANT,
  AUTH_AUDIENCES: 'api://x, 6e8f3a1c-0d2b-4c5e-8f7a-9b0c1d2e3f40',
  AUTH_ALLOWED_CALLER_OBJECT_IDS: APIM,
};

function failure(env: Record<string, string | undefined>): { setting: string; reason: string } {
  try {
    loadAuthConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    const { setting, reason } = error as ConfigError;
    return { setting, reason };
  }
  throw new Error('expected a ConfigError');
}

describe('loadAuthConfig', () => {
  it('reads the minimal configuration and derives the Entra defaults from the tenant', () => {
    const config = loadAuthConfig(minimal);
    const tid = TENANT.toLowerCase();
    expect(config.tenantId).toBe(tid);
    expect(config.audiences).toEqual(['api://x', '6e8f3a1c-0d2b-4c5e-8f7a-9b0c1d2e3f40']);
    expect([...config.allowedCallerObjectIds]).toEqual([APIM.toLowerCase()]);
    expect(config.allowedClientIds).toBeUndefined();
    expect(config.requiredRoles).toEqual([]);
    expect(config.issuers).toEqual([
      `https://sts.windows.net/${tid}/`,
      `https://login.microsoftonline.com/${tid}/v2.0`,
    ]);
    expect(config.jwksUri).toBe(`https://login.microsoftonline.com/${tid}/discovery/v2.0/keys`);
    expect(config.clockSkewSeconds).toBe(300);
  });

  it('reads every optional setting', () => {
    const config = loadAuthConfig({
      ...minimal,
      AUTH_ALLOWED_CLIENT_IDS: '5D6E7F80-9A0B-4C1D-8E2F-3A4B5C6D7E8F',
      AUTH_REQUIRED_ROLES: 'Api.Invoke,Api.Admin',
      AUTH_ISSUERS: 'http://127.0.0.1:7072/t/v2.0',
      AUTH_JWKS_URI: 'https://keys.example.com/keys',
      AUTH_CLOCK_SKEW_SECONDS: '0',
    });
    expect([...config.allowedClientIds!]).toEqual(['5d6e7f80-9a0b-4c1d-8e2f-3a4b5c6d7e8f']);
    expect(config.requiredRoles).toEqual(['Api.Invoke', 'Api.Admin']);
    expect(config.issuers).toEqual(['http://127.0.0.1:7072/t/v2.0']);
    expect(config.jwksUri).toBe('https://keys.example.com/keys');
    expect(config.clockSkewSeconds).toBe(0);
  });

  it.each([
    'AUTH_ALLOWED_CLIENT_IDS',
    'AUTH_REQUIRED_ROLES',
    'AUTH_ISSUERS',
    'AUTH_JWKS_URI',
    'AUTH_CLOCK_SKEW_SECONDS',
  ])('refuses %s set but blank: an emptied setting never switches a check off', (setting) => {
    for (const blank of ['', '   ']) {
      const result = failure({ ...minimal, [setting]: blank });
      expect(result.setting).toBe(setting);
      expect(result.reason).toMatch(/set but empty/);
    }
  });

  it.each([
    ['missing tenant', { AUTH_TENANT_ID: undefined }, 'AUTH_TENANT_ID'],
    ['blank tenant', { AUTH_TENANT_ID: '   ' }, 'AUTH_TENANT_ID'],
    ['tenant not a GUID', { AUTH_TENANT_ID: 'contoso.onmicrosoft.com' }, 'AUTH_TENANT_ID'],
    ['missing audiences', { AUTH_AUDIENCES: undefined }, 'AUTH_AUDIENCES'],
    ['empty audience entry', { AUTH_AUDIENCES: 'a,,b' }, 'AUTH_AUDIENCES'],
    ['audience with a space', { AUTH_AUDIENCES: 'api://a b' }, 'AUTH_AUDIENCES'],
    [
      'missing callers',
      { AUTH_ALLOWED_CALLER_OBJECT_IDS: undefined },
      'AUTH_ALLOWED_CALLER_OBJECT_IDS',
    ],
    [
      'caller not a GUID',
      { AUTH_ALLOWED_CALLER_OBJECT_IDS: 'apim' },
      'AUTH_ALLOWED_CALLER_OBJECT_IDS',
    ],
    [
      'trailing comma in callers',
      { AUTH_ALLOWED_CALLER_OBJECT_IDS: `${APIM},` },
      'AUTH_ALLOWED_CALLER_OBJECT_IDS',
    ],
    ['client id not a GUID', { AUTH_ALLOWED_CLIENT_IDS: 'x' }, 'AUTH_ALLOWED_CLIENT_IDS'],
    ['empty role entry', { AUTH_REQUIRED_ROLES: 'a,' }, 'AUTH_REQUIRED_ROLES'],
    ['issuer not a URL', { AUTH_ISSUERS: 'sts.windows.net' }, 'AUTH_ISSUERS'],
    ['issuer over plain http', { AUTH_ISSUERS: 'http://sts.example.com/' }, 'AUTH_ISSUERS'],
    ['JWKS over plain http', { AUTH_JWKS_URI: 'http://keys.example.com/keys' }, 'AUTH_JWKS_URI'],
    ['JWKS not a URL', { AUTH_JWKS_URI: 'keys' }, 'AUTH_JWKS_URI'],
    ['skew above the maximum', { AUTH_CLOCK_SKEW_SECONDS: '301' }, 'AUTH_CLOCK_SKEW_SECONDS'],
    ['negative skew', { AUTH_CLOCK_SKEW_SECONDS: '-1' }, 'AUTH_CLOCK_SKEW_SECONDS'],
    ['fractional skew', { AUTH_CLOCK_SKEW_SECONDS: '1.5' }, 'AUTH_CLOCK_SKEW_SECONDS'],
    ['skew not a number', { AUTH_CLOCK_SKEW_SECONDS: 'five' }, 'AUTH_CLOCK_SKEW_SECONDS'],
  ])('refuses %s, naming the setting', (_case, change, setting) => {
    const result = failure({ ...minimal, ...change });
    expect(result.setting).toBe(setting);
    expect(result.reason.length).toBeGreaterThan(0);
  });

  it('never puts the offending value in the error', () => {
    const secretish = 'not-a-guid-but-maybe-sensitive';
    const error = failure({ ...minimal, AUTH_TENANT_ID: secretish });
    expect(JSON.stringify(error)).not.toContain(secretish);
  });

  it('accepts the maximum skew and loopback http for local stand-ins', () => {
    const config = loadAuthConfig({
      ...minimal,
      AUTH_CLOCK_SKEW_SECONDS: '300',
      AUTH_JWKS_URI: 'http://localhost:7072/keys',
      AUTH_ISSUERS: 'http://[::1]:7072/t/',
    });
    expect(config.clockSkewSeconds).toBe(300);
    expect(config.jwksUri).toBe('http://localhost:7072/keys');
  });
});

describe('loadAuthConfig at the edges', () => {
  it.each([
    [
      'an empty client id entry',
      { AUTH_ALLOWED_CLIENT_IDS: `${APIM},,${APIM}` },
      'AUTH_ALLOWED_CLIENT_IDS',
    ],
    ['an empty issuer entry', { AUTH_ISSUERS: 'https://a/,,https://b/' }, 'AUTH_ISSUERS'],
    [
      'one audience of several with white space',
      { AUTH_AUDIENCES: 'api://a b,api://c' },
      'AUTH_AUDIENCES',
    ],
    ['a tab inside an audience', { AUTH_AUDIENCES: 'api://a\tb' }, 'AUTH_AUDIENCES'],
    ['a GUID with a prefix', { AUTH_TENANT_ID: `x${TENANT}` }, 'AUTH_TENANT_ID'],
    ['a GUID with a suffix', { AUTH_TENANT_ID: `${TENANT}x` }, 'AUTH_TENANT_ID'],
    [
      'a JWKS address over ftp on loopback',
      { AUTH_JWKS_URI: 'ftp://127.0.0.1/keys' },
      'AUTH_JWKS_URI',
    ],
    ['an issuer over ws on loopback', { AUTH_ISSUERS: 'ws://localhost/t/' }, 'AUTH_ISSUERS'],
  ])('refuses %s, naming the setting', (_case, change, setting) => {
    expect(failure({ ...minimal, ...change }).setting).toBe(setting);
  });

  it.each([
    [{ AUTH_TENANT_ID: undefined }, 'AUTH_TENANT_ID', 'is missing or empty.'],
    [{ AUTH_TENANT_ID: ' \t ' }, 'AUTH_TENANT_ID', 'is missing or empty.'],
    [{ AUTH_TENANT_ID: 'x' }, 'AUTH_TENANT_ID', 'must hold GUIDs only.'],
    [
      { AUTH_REQUIRED_ROLES: ' ' },
      'AUTH_REQUIRED_ROLES',
      'is set but empty: remove it to use the default, or give a value.',
    ],
    [
      { AUTH_AUDIENCES: 'a,,b' },
      'AUTH_AUDIENCES',
      'has an empty entry: use a comma-separated list without blanks.',
    ],
    [{ AUTH_AUDIENCES: 'a b' }, 'AUTH_AUDIENCES', 'has an entry with white space in it.'],
    [{ AUTH_JWKS_URI: 'keys' }, 'AUTH_JWKS_URI', 'must hold absolute URLs.'],
    [
      { AUTH_JWKS_URI: 'http://keys.example.com/' },
      'AUTH_JWKS_URI',
      'must use https (plain http is accepted for loopback addresses only).',
    ],
    [
      { AUTH_CLOCK_SKEW_SECONDS: '301' },
      'AUTH_CLOCK_SKEW_SECONDS',
      'must be a whole number of seconds from 0 to 300.',
    ],
  ])('says why: %j → %s %s', (change, setting, reason) => {
    expect(failure({ ...minimal, ...change })).toEqual({ setting, reason });
  });

  it('trims the values it reads', () => {
    const config = loadAuthConfig({
      ...minimal,
      AUTH_TENANT_ID: `  ${TENANT}\t`,
      AUTH_ISSUERS: ' https://a.example.com/ , https://b.example.com/ ',
      AUTH_CLOCK_SKEW_SECONDS: ' 60 ',
    });
    expect(config.tenantId).toBe(TENANT.toLowerCase());
    expect(config.issuers).toEqual(['https://a.example.com/', 'https://b.example.com/']);
    expect(config.clockSkewSeconds).toBe(60);
  });

  it('keeps each list entry once', () => {
    const config = loadAuthConfig({ ...minimal, AUTH_AUDIENCES: 'api://x,api://x,api://y' });
    expect(config.audiences).toEqual(['api://x', 'api://y']);
  });
});
