/**
 * The token forms Microsoft.IdentityModel's JsonWebTokenHandler refuses and a lax reader accepts:
 * bytes that are not UTF-8, a payload that is not a JSON object, base64url that is not the one
 * canonical spelling, and `nbf` after `exp`. Each case is a correctly signed token, so that the
 * refusal is about the form alone (the control cases show the same token shape accepted).
 */
import { createSign } from 'node:crypto';
import path from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { AuthError } from '../../../functions/auth/errors';
import {
  decodeSegment,
  isCanonicalBase64url,
  MAX_KNOWN_HEADERS,
  readCompactJws,
} from '../../../functions/auth/jws';
import { TokenValidator } from '../../../functions/auth/token-validator';
import {
  createTestKey,
  NOW_SECONDS,
  rawToken,
  sign,
  StaticKeys,
  testConfig,
  TestKey,
  v2Claims,
} from '../../support/tokens';

let key: TestKey;

beforeAll(() => {
  key = createTestKey();
});

const validator = () =>
  new TokenValidator(testConfig(), new StaticKeys([key]), () => NOW_SECONDS * 1000);

async function outcome(token: string): Promise<{ code: string; claim?: string }> {
  try {
    await validator().validate(`Bearer ${token}`);
    return { code: 'accepted' };
  } catch (error) {
    if (!(error instanceof AuthError)) throw error;
    return error.claim === undefined
      ? { code: error.code }
      : { code: error.code, claim: error.claim };
  }
}

/** A token over exactly these header and payload bytes, signed with the test key. */
function signBytes(header: Buffer, payload: Buffer): string {
  const input = `${header.toString('base64url')}.${payload.toString('base64url')}`;
  return `${input}.${createSign('RSA-SHA256').update(input).sign(key.privateKey, 'base64url')}`;
}

const headerJson = () => JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: key.kid });
const payloadJson = (extra: Record<string, unknown> = {}) => JSON.stringify(v2Claims(extra));

/** JSON text with `marker` (an ASCII string value) replaced by raw bytes. */
function withBytes(json: string, marker: string, bytes: number[]): Buffer {
  const [before, after] = json.split(marker) as [string, string];
  return Buffer.concat([Buffer.from(before), Buffer.from(bytes), Buffer.from(after)]);
}

describe('UTF-8', () => {
  const invalid: [string, number[]][] = [
    ['a lone continuation byte', [0x80]],
    ['a byte that never occurs in UTF-8', [0xff]],
    ['a truncated sequence', [0xc3]],
    ['an overlong encoding of "/"', [0xc0, 0xaf]],
    ['an overlong encoding of a quote', [0xc0, 0xa2]],
    ['a three-byte overlong encoding', [0xe0, 0x80, 0xaf]],
    ['an encoded surrogate', [0xed, 0xa0, 0x80]],
  ];

  it('accepts the control: the same tokens with valid multi-byte UTF-8', async () => {
    const header = withBytes(
      JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: key.kid, x: 'MARK' }),
      'MARK',
      [0xc3, 0xa9],
    );
    const payload = withBytes(payloadJson({ name: 'MARK' }), 'MARK', [0xe2, 0x82, 0xac]);
    expect(await outcome(signBytes(header, payload))).toEqual({ code: 'accepted' });
  });

  it.each(invalid)('refuses a header with %s', async (_case, bytes) => {
    const header = withBytes(
      JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: key.kid, x: 'MARK' }),
      'MARK',
      bytes,
    );
    const token = signBytes(header, Buffer.from(payloadJson()));
    expect(await outcome(token)).toEqual({ code: 'malformed_token' });
  });

  it.each(invalid)('refuses a payload with %s', async (_case, bytes) => {
    const payload = withBytes(payloadJson({ name: 'MARK' }), 'MARK', bytes);
    const token = signBytes(Buffer.from(headerJson()), payload);
    expect(await outcome(token)).toEqual({ code: 'malformed_token' });
  });

  it('refuses a byte order mark before the JSON', async () => {
    const payload = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(payloadJson())]);
    expect(await outcome(signBytes(Buffer.from(headerJson()), payload))).toEqual({
      code: 'malformed_token',
    });
  });
});

describe('a payload that is not a JSON object', () => {
  it.each([
    ['a JSON string that holds the claims', () => JSON.stringify(payloadJson())],
    ['an array', () => `[${payloadJson()}]`],
    ['a number', () => '1796040000'],
    ['null', () => 'null'],
    ['true', () => 'true'],
    ['empty', () => ''],
  ])('refuses %s', async (_case, payload) => {
    const token = signBytes(Buffer.from(headerJson()), Buffer.from(payload()));
    expect(await outcome(token)).toEqual({ code: 'malformed_token' });
  });
});

describe('canonical base64url', () => {
  const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

  /** Every other spelling of the segment that Node's lax decoder reads as the same bytes. */
  function otherSpellings(segment: string): string[] {
    const bytes = Buffer.from(segment, 'base64url');
    const body = segment.slice(0, -1);
    const variants = [...ALPHABET]
      .map((char) => body + char)
      .filter((variant) => variant !== segment && Buffer.from(variant, 'base64url').equals(bytes));
    return [...variants, `${segment}=`, `${segment}==`];
  }

  /** A valid token whose three segments all end in a character with unused bits. */
  function tokenWithUnusedBits(): string {
    for (let filler = 0; filler < 12; filler += 1) {
      const token = sign(v2Claims({ x: 'x'.repeat(filler) }), key, { y: 'y'.repeat(filler % 3) });
      if (token.split('.').every((segment) => segment.length % 4 !== 0)) return token;
    }
    throw new Error('no token shape with unused bits in every segment');
  }

  it('accepts the canonical spelling', async () => {
    expect(await outcome(tokenWithUnusedBits())).toEqual({ code: 'accepted' });
  });

  it.each([0, 1, 2])('refuses every other spelling of segment %i', async (index) => {
    const token = tokenWithUnusedBits();
    const segments = token.split('.');
    const spellings = otherSpellings(segments[index]!);
    // 2 or 4 unused bits: 3 or 15 other last characters, and padding.
    expect(spellings.length).toBeGreaterThanOrEqual(5);
    for (const spelling of spellings) {
      const variant = segments.map((segment, i) => (i === index ? spelling : segment)).join('.');
      expect({ spelling, ...(await outcome(variant)) }).toEqual({
        spelling,
        code: 'malformed_token',
      });
    }
  });

  it('decodes a segment only when re-encoding gives it back', () => {
    expect(decodeSegment('QQ')?.toString()).toBe('A');
    expect(decodeSegment('QR')).toBeUndefined();
    expect(decodeSegment('QQ==')).toBeUndefined();
    expect(decodeSegment('Q')).toBeUndefined();
    expect(decodeSegment('+/')).toBeUndefined();
    expect(decodeSegment('')).toBeUndefined();
  });

  // The rules of the check that reads no bytes (the signature's), one at a time; the property test
  // (test/properties/base64url.test.ts) holds it equal to decoding and re-encoding on any string.
  it.each([
    ['the whole alphabet', `${ALPHABET}AA`, true],
    ['nothing at all', '', false],
    ['a character outside the alphabet, first', `+${ALPHABET.slice(1)}`, false],
    ['a character outside the alphabet, inside', 'QUFB/UFB', false],
    ['a character outside the alphabet, last', 'QUFBQUF=', false],
    ['padding', 'QQ==', false],
    ['white space', 'QU FB', false],
    ['a dot', 'QU.B', false],
    ['a character above U+00FF that Node decodes as one of the alphabet', 'QUF\u0141', false],
    ['a length of 0 mod 4', 'QUFB', true],
    ['a length of 1 mod 4', 'QUFBQ', false],
    ['a length of 2 mod 4, last character with its 4 unused bits clear', 'QUFBQQ', true],
    ['a length of 2 mod 4, last character with an unused bit set', 'QUFBQR', false],
    ['a length of 2 mod 4, last character with the highest unused bit set', 'QUFBQY', false],
    ['a length of 3 mod 4, last character with its 2 unused bits clear', 'QUFBQUE', true],
    ['a length of 3 mod 4, last character with an unused bit set', 'QUFBQUF', false],
    ['a length of 3 mod 4, last character with the higher unused bit set', 'QUFBQUG', false],
    ['a length of 0 mod 4, any last character', 'QUF_', true],
  ])('isCanonicalBase64url: %s → %s', (_case, segment, expected) => {
    expect(isCanonicalBase64url(segment)).toBe(expected);
    expect(decodeSegment(segment) !== undefined).toBe(expected);
  });
});

describe('headers read before', () => {
  type Reader = typeof readCompactJws;

  /** How many JSON texts `read` parses to read a token whose header names `kid`. */
  function parsesOf(kid: string, read: Reader = readCompactJws): number {
    const token = sign(v2Claims(), key, { kid });
    const parse = vi.spyOn(JSON, 'parse');
    read(token);
    const count = parse.mock.calls.length;
    parse.mockRestore();
    return count;
  }

  /** The reader of a fresh copy of the module, which has read no header yet. */
  async function freshReader(): Promise<Reader> {
    vi.resetModules();
    const fresh = (await import(path.resolve(__dirname, '../../../functions/auth/jws.ts'))) as {
      readCompactJws: Reader;
    };
    return fresh.readCompactJws;
  }

  it('parses a header once, then only the payload of each token that carries it', () => {
    const kid = 'read-once';
    expect(parsesOf(kid)).toBe(2);
    expect(parsesOf(kid)).toBe(1);
    expect(parsesOf(kid)).toBe(1);
  });

  it(`keeps the first ${MAX_KNOWN_HEADERS} headers, and forgets them all when one more comes`, async () => {
    const read = await freshReader();
    const kids = Array.from({ length: MAX_KNOWN_HEADERS + 1 }, (_, i) => `kept-${i}`);
    const first = kids.slice(0, MAX_KNOWN_HEADERS);
    expect(first.map((kid) => parsesOf(kid, read))).toEqual(Array(MAX_KNOWN_HEADERS).fill(2));
    expect(first.map((kid) => parsesOf(kid, read))).toEqual(Array(MAX_KNOWN_HEADERS).fill(1));
    expect(parsesOf(kids[MAX_KNOWN_HEADERS]!, read)).toBe(2);
    expect(parsesOf(kids[MAX_KNOWN_HEADERS]!, read)).toBe(1);
    expect(parsesOf(kids[0]!, read)).toBe(2);
  });

  it('still checks the signature and the payload of a token whose header it knows', () => {
    const token = sign(v2Claims(), key, { kid: 'known-header' });
    const [head, body, signature] = token.split('.') as [string, string, string];
    readCompactJws(token);
    expect(parsesOf('known-header')).toBe(1);
    // A padded signature, a payload that is not JSON, a payload in another spelling.
    expect(() => readCompactJws(`${head}.${body}.${signature}=`)).toThrow(
      'The token signature is missing or not canonical base64url.',
    );
    expect(() =>
      readCompactJws(`${head}.${Buffer.from('[1]').toString('base64url')}.${signature}`),
    ).toThrow('The token payload is not a JSON object.');
    expect(() => readCompactJws(`${head}.${body}+.${signature}`)).toThrow(
      'The token payload is not canonical base64url.',
    );
  });

  it('keeps no header it refused: each token that carries one is refused again, the same way', () => {
    const token = rawToken({ alg: 'RS256', kid: key.kid, crit: [] }, v2Claims(), 'c2ln');
    for (let i = 0; i < 2; i += 1) {
      expect(() => readCompactJws(token)).toThrow('The token header has critical extensions.');
    }
  });
});

describe('nbf and exp', () => {
  it('refuses nbf later than exp, even when the skew would let both pass', async () => {
    const token = sign(v2Claims({ nbf: NOW_SECONDS + 200, exp: NOW_SECONDS + 100 }), key);
    expect(await outcome(token)).toEqual({ code: 'malformed_token', claim: 'nbf' });
  });

  it('accepts nbf equal to exp, and nbf before exp within the skew (the controls)', async () => {
    expect(
      await outcome(sign(v2Claims({ nbf: NOW_SECONDS + 100, exp: NOW_SECONDS + 100 }), key)),
    ).toEqual({ code: 'accepted' });
    expect(
      await outcome(sign(v2Claims({ nbf: NOW_SECONDS + 100, exp: NOW_SECONDS + 200 }), key)),
    ).toEqual({ code: 'accepted' });
  });

  it.each([
    ['nbf', { nbf: String(NOW_SECONDS) }],
    ['exp', { exp: String(NOW_SECONDS + 3600) }],
    ['iat', { iat: null }],
  ])('refuses a %s that is not a number', async (claim, change) => {
    const token = signBytes(Buffer.from(headerJson()), Buffer.from(payloadJson(change)));
    expect(await outcome(token)).toEqual({ code: 'malformed_token', claim });
  });

  it.each(['nbf', 'exp', 'iat'])(
    'refuses %s when JSON reads it as Infinity (1e999)',
    async (claim) => {
      const payload = payloadJson({ [claim]: 'HUGE' }).replace('"HUGE"', '1e999');
      const token = signBytes(Buffer.from(headerJson()), Buffer.from(payload));
      expect(await outcome(token)).toEqual({ code: 'malformed_token', claim });
    },
  );
});
