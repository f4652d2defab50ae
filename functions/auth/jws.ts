import { isUtf8 } from 'node:buffer';
import { AuthError } from './errors';

/**
 * Strict reading of a JWS in compact serialisation (RFC 7515 section 7.1) signed with RS256.
 *
 * Each check refuses something that Microsoft.IdentityModel's `JsonWebTokenHandler` refuses too,
 * or that this app refuses beyond it:
 *
 * - Exactly three segments, each unpadded base64url (RFC 7515 section 2) in its one canonical
 *   spelling: no padding, no other alphabet, no length of 1 mod 4, and no unused low bits set in
 *   the last character. Node's decoder ignores all of these, so that every token would have other
 *   spellings that decode to the same bytes (`isCanonicalBase64url`).
 * - Header and payload are UTF-8 (RFC 7515 section 5.2, RFC 7519 section 7.2), checked before
 *   decoding: invalid bytes, overlong encodings and encoded surrogates are refused, where Node's
 *   decoder would replace them silently. A BOM is kept (so JSON parsing refuses it).
 * - Header and payload are JSON objects (RFC 7519 section 7.2 step 10). The payload is parsed once:
 *   a JSON string that holds an object is a string, and refused.
 * - `alg` is RS256, `crit` is absent (RFC 7515 section 4.1.11: no extension is understood here),
 *   and `kid` names the key (Entra always sends it).
 */

/** The longest `kid` accepted; Entra's are 27 to 40 characters. */
export const MAX_KID_LENGTH = 256;

export interface CompactJws {
  readonly kid: string;
  readonly payload: Readonly<Record<string, unknown>>;
}

const malformed = (message: string, claim?: string): AuthError =>
  new AuthError('malformed_token', message, { claim });

/** Only characters of the base64url alphabet (RFC 4648 section 5), at least one. */
const BASE64URL = /^[A-Za-z0-9_-]+$/;
/** The alphabet in the order of the values the characters stand for. */
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * Whether `segment` is unpadded base64url in its one canonical spelling: only the alphabet, a
 * length that is not 1 mod 4 (one character holds 6 bits, less than a byte), and no unused low
 * bits set in the last character (of a length 2 mod 4 it carries 4 bits beyond the last byte, of
 * 3 mod 4, 2 bits). That is exactly the segments that Node's encoder writes: those that
 * `decodeSegment` accepts. Used where the bytes are not needed, for the signature (which
 * jsonwebtoken decodes itself): scanning the characters costs less than decoding and re-encoding.
 */
export function isCanonicalBase64url(segment: string): boolean {
  const rest = segment.length % 4;
  if (rest === 1 || !BASE64URL.test(segment)) return false;
  const unused = rest === 2 ? 0b1111 : rest === 3 ? 0b11 : 0;
  return (ALPHABET.indexOf(segment.charAt(segment.length - 1)) & unused) === 0;
}

/**
 * The bytes of one canonical base64url segment, or undefined when the segment is not one. Node's
 * decoder skips what it does not understand (padding, `+` and `/`, white space, any other
 * character, a dangling last character, unused low bits); its encoder writes the one canonical
 * spelling. So a segment is canonical exactly when re-encoding its bytes gives it back. Where the
 * bytes are needed (header and payload), that is the cheaper check: re-encoding a payload of some
 * 550 characters costs about 0.3 µs, scanning its characters with `isCanonicalBase64url` 0.5 µs.
 */
export function decodeSegment(segment: string): Buffer | undefined {
  if (segment.length === 0) return undefined;
  const bytes = Buffer.from(segment, 'base64url');
  return bytes.toString('base64url') === segment ? bytes : undefined;
}

function jsonObject(bytes: Buffer, what: 'header' | 'payload'): Record<string, unknown> {
  if (!isUtf8(bytes)) throw malformed(`The token ${what} is not valid UTF-8.`);
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw malformed(`The token ${what} is not valid JSON.`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw malformed(`The token ${what} is not a JSON object.`);
  }
  return value as Record<string, unknown>;
}

/**
 * Header segments read before, each with the `kid` it names. Every token signed with one of
 * Entra's keys carries the same header, so a header is decoded, checked and parsed once per key
 * rather than once per token. Only headers that passed every check are kept, at most
 * MAX_KNOWN_HEADERS (Entra publishes a handful of keys), forgotten all at once when full: a flood
 * of distinct headers costs what reading each costs anyway. A list and not a Map: comparing a
 * header with a few others costs less than hashing it.
 */
const knownHeaders: { readonly segment: string; readonly kid: string }[] = [];
export const MAX_KNOWN_HEADERS = 16;

/** The `kid` of a header segment, or the refusal of a header that is not one this app reads. */
function readHeader(segment: string): string {
  for (const known of knownHeaders) if (known.segment === segment) return known.kid;
  const headerBytes = decodeSegment(segment);
  if (!headerBytes) throw malformed('The token header is not canonical base64url.');
  const header = jsonObject(headerBytes, 'header');
  const { alg, kid, crit } = header;
  if (alg !== 'RS256') {
    throw new AuthError('unsupported_algorithm', 'The token must be signed with RS256.', {
      claim: 'alg',
    });
  }
  if (crit !== undefined) throw malformed('The token header has critical extensions.', 'crit');
  if (typeof kid !== 'string' || kid.length === 0 || kid.length > MAX_KID_LENGTH) {
    throw new AuthError('missing_key_id', 'The token header has no key id (kid).', {
      claim: 'kid',
    });
  }
  if (knownHeaders.length === MAX_KNOWN_HEADERS) knownHeaders.length = 0;
  // The segment kept is the re-encoded copy, equal to it: `segment` is a slice of the
  // Authorization header, and keeping a slice would keep the whole token in memory.
  knownHeaders.push({ segment: headerBytes.toString('base64url'), kid });
  return kid;
}

/**
 * Reads and checks the whole token before any key lookup and before jsonwebtoken reads it, so
 * that a token that could never verify costs no JWKS fetch, and jsonwebtoken only sees tokens in
 * the one form it and Microsoft.IdentityModel read alike (it decodes the header as `binary`, and
 * parses a payload that is a JSON string a second time). The signature is verified by jsonwebtoken.
 */
export function readCompactJws(token: string): CompactJws {
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  if (
    first < 1 ||
    second < first + 2 ||
    second === token.length - 1 ||
    token.includes('.', second + 1)
  ) {
    throw malformed('The token is not a signed JWT in compact form.');
  }
  const kid = readHeader(token.slice(0, first));
  if (!isCanonicalBase64url(token.slice(second + 1))) {
    throw malformed('The token signature is missing or not canonical base64url.');
  }
  const payloadBytes = decodeSegment(token.slice(first + 1, second));
  if (!payloadBytes) throw malformed('The token payload is not canonical base64url.');
  return { kid, payload: jsonObject(payloadBytes, 'payload') };
}
