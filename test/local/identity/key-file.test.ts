import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openFileKeyStore } from '../../../scripts/local/identity/keys';

let dir: string;
let file: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'identity-keys-'));
  file = path.join(dir, 'identity', 'keys.json');
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('key file', () => {
  it('is created on first use, with the signing key in it', () => {
    expect(fs.existsSync(file)).toBe(false);
    const kid = openFileKeyStore(file).signer().kid;
    expect(fs.existsSync(file)).toBe(true);
    const content = JSON.parse(fs.readFileSync(file, 'utf8')) as { keys: { kid: string }[] };
    expect(content.keys.map((key) => key.kid)).toEqual([kid]);
  });

  it.skipIf(process.platform === 'win32')(
    'is readable only by its owner (POSIX modes; skipped on Windows, which has none)',
    () => {
      openFileKeyStore(file).signer();
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      expect(fs.statSync(path.dirname(file)).mode & 0o077).toBe(0);
    },
  );

  it('gives a second store (another process: the mint command) the same signer', () => {
    const first = openFileKeyStore(file);
    const second = openFileKeyStore(file);
    expect(second.signer().kid).toBe(first.signer().kid);
  });

  it('persists a rotation, which a store opened earlier picks up', () => {
    const running = openFileKeyStore(file);
    const before = running.signer().kid;
    const other = openFileKeyStore(file);
    other.rotate();
    const after = other.signer().kid;
    expect(after).not.toBe(before);
    expect(running.published().map((key) => key.kid)).toEqual([after, before]);
    expect(running.signer().kid).toBe(after);
  });

  it('tightens a key file that others can read', () => {
    if (process.platform === 'win32') return;
    openFileKeyStore(file).signer();
    fs.chmodSync(file, 0o644);
    fs.appendFileSync(file, ' '); // a change, so the next use reads the file again
    openFileKeyStore(file).signer();
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  it.each([
    ['not JSON', '{'],
    ['no keys', '{"keys": []}'],
    ['a key that is not a PEM', '{"keys": [{"kid": "x", "privateKey": "nope"}]}'],
  ])('names the file when it holds %s', (_name, content) => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content, { mode: 0o600 });
    expect(() => openFileKeyStore(file).signer()).toThrow(file);
  });
});
