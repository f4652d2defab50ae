import crypto, { KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** An RSA-2048 signing key of the identity stand-in. */
export interface SigningKey {
  /** RFC 7638 JWK thumbprint (SHA-256, base64url): the `kid` (and the `x5t` of v1 tokens). */
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** The public key as a JWK: `kty`, `n`, `e`. */
  readonly jwk: { readonly kty: 'RSA'; readonly n: string; readonly e: string };
}

/** The stand-in's key set: one key signs, the previous ones stay published for a while (like Entra). */
export interface KeyStore {
  /** The key that signs new tokens. */
  signer(): SigningKey;
  /** Every published key, the signer first. */
  published(): readonly SigningKey[];
  /** A new key becomes the signer; the older ones stay published (at most MAX_PUBLISHED_KEYS in all). */
  rotate(): void;
}

/** How many keys the JWKS publishes at most: the signer and the ones it replaced. */
export const MAX_PUBLISHED_KEYS = 3;

/** The RFC 7638 thumbprint of an RSA public JWK: SHA-256 over `{"e","kty","n"}`, base64url. */
export function jwkThumbprint(jwk: { e: string; kty: string; n: string }): string {
  const canonical = JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n });
  return crypto.createHash('sha256').update(canonical).digest('base64url');
}

function fromPrivateKey(privateKey: KeyObject): SigningKey {
  if (privateKey.asymmetricKeyType !== 'rsa') {
    throw new TypeError('Signing keys must be RSA keys.');
  }
  const publicKey = crypto.createPublicKey(privateKey);
  const exported = publicKey.export({ format: 'jwk' });
  if (typeof exported.n !== 'string' || typeof exported.e !== 'string') {
    throw new TypeError('The RSA public key has no modulus or exponent.');
  }
  const jwk = { kty: 'RSA', n: exported.n, e: exported.e } as const;
  return { kid: jwkThumbprint(jwk), privateKey, publicKey, jwk };
}

/** A fresh RSA-2048 key pair, generated locally. */
export function generateSigningKey(): SigningKey {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  return fromPrivateKey(privateKey);
}

/** Keys that live only in this process (tests). */
export function createMemoryKeyStore(initial: readonly SigningKey[] = []): KeyStore {
  let keys: SigningKey[] = initial.length > 0 ? [...initial] : [generateSigningKey()];
  return {
    signer: () => keys[0]!,
    published: () => keys,
    rotate: () => {
      keys = [generateSigningKey(), ...keys].slice(0, MAX_PUBLISHED_KEYS);
    },
  };
}

interface KeyFile {
  readonly keys: readonly { readonly kid: string; readonly privateKey: string }[];
}

const FILE_NOTE =
  'Signing keys of the local identity stand-in. Generated on this machine; never commit or share.';

/**
 * Keys kept in `file` (created on first use, mode 0600 in a 0700 directory), so that the `mint`
 * command and a running stand-in sign with the same key. The file is read again whenever it
 * changes, so a rotation or a fresh key set made by another process is picked up.
 */
export function openFileKeyStore(file: string): KeyStore {
  let keys: SigningKey[] = [];
  let seen: { ino: number; mtimeMs: number; size: number } | undefined;

  const write = (next: SigningKey[]): void => {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const content: KeyFile & { note: string } = {
      note: FILE_NOTE,
      keys: next.map((key) => ({
        kid: key.kid,
        privateKey: key.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      })),
    };
    const temporary = `${file}.${process.pid}.${crypto.randomBytes(6).toString('hex')}.tmp`;
    fs.writeFileSync(temporary, JSON.stringify(content, null, 2) + '\n', {
      mode: 0o600,
      flag: 'wx',
    });
    fs.renameSync(temporary, file);
  };

  const read = (): SigningKey[] => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (error) {
      throw new Error(
        `The identity key file ${file} cannot be read (${error instanceof Error ? error.message : String(error)}). ` +
          'Delete it to create a new key set.',
        { cause: error },
      );
    }
    const entries = (parsed as Partial<KeyFile> | null)?.keys;
    if (!Array.isArray(entries) || entries.length === 0) {
      throw new Error(
        `The identity key file ${file} has no "keys". Delete it to create a new key set.`,
      );
    }
    return entries.map((entry: unknown, index) => {
      const pem = (entry as { privateKey?: unknown } | null)?.privateKey;
      if (typeof pem !== 'string') {
        throw new Error(
          `The identity key file ${file} has no private key at keys[${index}]. Delete it to create a new key set.`,
        );
      }
      try {
        return fromPrivateKey(crypto.createPrivateKey(pem));
      } catch (error) {
        throw new Error(
          `The identity key file ${file} has an unusable key at keys[${index}]. Delete it to create a new key set.`,
          { cause: error },
        );
      }
    });
  };

  const current = (): SigningKey[] => {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      write([generateSigningKey()]);
      stat = fs.statSync(file);
    }
    if (
      !seen ||
      seen.ino !== stat.ino ||
      seen.mtimeMs !== stat.mtimeMs ||
      seen.size !== stat.size
    ) {
      if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) fs.chmodSync(file, 0o600);
      keys = read();
      seen = { ino: stat.ino, mtimeMs: stat.mtimeMs, size: stat.size };
    }
    return keys;
  };

  return {
    signer: () => current()[0]!,
    published: () => current(),
    rotate: () => {
      write([generateSigningKey(), ...current()].slice(0, MAX_PUBLISHED_KEYS));
    },
  };
}
