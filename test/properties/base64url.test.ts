/**
 * The canonical base64url check of the token reader (functions/auth/jws.ts) against its definition:
 * a segment is canonical when it is not empty and Node's encoder gives it back from the bytes
 * Node's decoder reads from it. `isCanonicalBase64url` states the same rules without decoding (the
 * alphabet, a length that is not 1 mod 4, no unused low bits in the last character);
 * `decodeSegment` decodes and re-encodes. Both must agree with the definition on any string.
 *
 * fast-check runs RUNS cases per property from a fixed seed (FC_SEED overrides it to explore).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeSegment, isCanonicalBase64url } from '../../functions/auth/jws';

const RUNS = 100_000;
const SEED = Number(process.env.FC_SEED ?? 20261207);
const settings = { seed: SEED, numRuns: RUNS };

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** The definition the check replaces. */
const definition = (segment: string): boolean =>
  Buffer.from(segment, 'base64url').toString('base64url') === segment && segment.length > 0;

/**
 * Characters Node's decoder treats specially or skips: padding, the other alphabet, white space,
 * the segment separator; and characters above U+00FF, whose low byte the decoder may read as a
 * character of the alphabet (U+0141 as `A`).
 */
const special = fc.constantFrom('=', '+', '/', ' ', '\t', '\n', '\r', '\v', '\f', '.', '\u0141');

/** Mostly the alphabet, with anything else now and then. */
const character = fc.oneof(
  { weight: 20, arbitrary: fc.constantFrom(...ALPHABET) },
  { weight: 2, arbitrary: special },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) },
);

const strings = fc.oneof(
  fc.string({ unit: character, maxLength: 24 }),
  fc.string({ unit: fc.constantFrom(...ALPHABET), maxLength: 24 }),
  fc.string({ unit: 'binary', maxLength: 24 }),
  fc.string({ unit: 'grapheme', maxLength: 24 }),
);

/** Node's own spelling of random bytes, with its last character replaced or one character added. */
const nearCanonical = fc
  .tuple(
    fc.uint8Array({ minLength: 1, maxLength: 40 }),
    fc.oneof(fc.constantFrom(...ALPHABET), special),
    fc.constantFrom('replace-last', 'append', 'prepend', 'none'),
  )
  .map(([bytes, char, how]) => {
    const spelling = Buffer.from(bytes).toString('base64url');
    if (how === 'replace-last') return spelling.slice(0, -1) + char;
    if (how === 'append') return spelling + char;
    if (how === 'prepend') return char + spelling;
    return spelling;
  });

describe('canonical base64url', () => {
  it('isCanonicalBase64url agrees with decoding and re-encoding, on any string', () => {
    fc.assert(
      fc.property(fc.oneof(strings, nearCanonical), (segment) => {
        expect(isCanonicalBase64url(segment)).toBe(definition(segment));
      }),
      settings,
    );
  });

  it('decodeSegment decodes exactly the segments of the definition', () => {
    fc.assert(
      fc.property(fc.oneof(strings, nearCanonical), (segment) => {
        const bytes = decodeSegment(segment);
        expect(bytes !== undefined).toBe(definition(segment));
        if (bytes) expect(bytes.toString('base64url')).toBe(segment);
      }),
      settings,
    );
  });

  it('the generated strings hold both answers, each often (the properties above can fail)', () => {
    const sample = fc.sample(fc.oneof(strings, nearCanonical), { seed: SEED, numRuns: 10_000 });
    const canonical = sample.filter(definition).length;
    expect(canonical).toBeGreaterThan(2_000);
    expect(sample.length - canonical).toBeGreaterThan(2_000);
  });
});
