import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { ManagedIdentityCredential, type AccessToken, type TokenCredential } from '@azure/identity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAuthConfig } from '../../../functions/auth/config';
import { SigningKeyStore } from '../../../functions/auth/signing-keys';
import { TokenValidator } from '../../../functions/auth/token-validator';
import { startGateway, type RunningGateway } from '../../../scripts/local/gateway/server';
import { openFileKeyStore } from '../../../scripts/local/identity/keys';
import { startIdentityServer, type IdentityServer } from '../../../scripts/local/identity/server';
import { localFunctionAppSettings } from '../../../scripts/local/shared/environment';
import { APIM_DIR, request } from '../gateway/support';
import { cleanEnv, runNode, script } from '../../support/node-process';
import { fetchJwks } from './support';

/**
 * `npm run identity -- rotate` against the secured path: the gateway holds a token (API
 * Management caches its managed identity token until it expires) and a function app instance
 * that starts after the rotation (a fresh key cache) still accepts it, because the previous key
 * stays in the JWKS. Deleting the key file, the other way to get new keys, does not keep it.
 */

const cli = script('local/identity/main');
const KEY = 'rotation-test-key';
const IDENTITY_HEADER = crypto.randomBytes(24).toString('base64url');

/** Keeps the first token, as API Management keeps its managed identity token. */
class CachingCredential implements TokenCredential {
  private cached: AccessToken | null = null;
  constructor(private readonly inner: TokenCredential) {}
  async getToken(scopes: string | string[]): Promise<AccessToken | null> {
    this.cached ??= await this.inner.getToken(scopes);
    return this.cached;
  }
}

let dir: string;
let keysFile: string;
let identity: IdentityServer;
let functionApp: http.Server;
let gateway: RunningGateway;
/** Replaced to model a function app instance that starts now, with no keys cached. */
let validator: TokenValidator;

function freshFunctionInstance(): void {
  const config = loadAuthConfig(localFunctionAppSettings(identity.url));
  validator = new TokenValidator(config, new SigningKeyStore({ jwksUri: config.jwksUri }));
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'identity-rotation-'));
  keysFile = path.join(dir, 'keys.json');
  identity = await startIdentityServer({
    keys: openFileKeyStore(keysFile),
    identityHeader: IDENTITY_HEADER,
    log: () => undefined,
  });
  freshFunctionInstance();
  functionApp = http.createServer((req, res) => {
    validator.validate(req.headers.authorization).then(
      () => res.writeHead(200).end('ok'),
      () => res.writeHead(401).end(),
    );
  });
  await new Promise<void>((resolve) => functionApp.listen(0, '127.0.0.1', resolve));
  process.env.IDENTITY_ENDPOINT = identity.urls.managedIdentityEndpoint('apim');
  process.env.IDENTITY_HEADER = IDENTITY_HEADER;
  gateway = await startGateway({
    port: 0,
    apimDir: APIM_DIR,
    functionsBaseUrl: `http://127.0.0.1:${(functionApp.address() as { port: number }).port}`,
    subscriptionKey: KEY,
    credential: new CachingCredential(
      new ManagedIdentityCredential({ retryOptions: { maxRetries: 0 } }),
    ),
    log: () => undefined,
  });
});

afterAll(async () => {
  await gateway?.close();
  await new Promise((resolve) => functionApp?.close(resolve));
  await identity?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const call = async () =>
  (await request(`${gateway.url}/api/hello`, { headers: { 'Ocp-Apim-Subscription-Key': KEY } }))
    .status;

describe('npm run identity -- rotate', () => {
  it('publishes a new signing key, keeps the previous one, and the token the gateway holds stays valid', async () => {
    expect(await call()).toBe(200);
    const before = (await fetchJwks(identity.urls.jwksUri)).map((key) => key.kid);
    expect(before).toHaveLength(1);

    const rotated = await runNode(cli, ['rotate'], cleanEnv({ IDENTITY_KEYS_FILE: keysFile }));
    expect(rotated.code).toBe(0);
    const after = (await fetchJwks(identity.urls.jwksUri)).map((key) => key.kid);
    expect(after).toHaveLength(2);
    expect(after[1]).toBe(before[0]);
    expect(rotated.stdout).toContain(`signs now   ${after[0]}`);
    expect(rotated.stdout).toContain(`published   ${before[0]}`);
    expect(rotated.stdout).not.toContain('PRIVATE KEY');

    freshFunctionInstance();
    expect(await call()).toBe(200);
  });

  it('refuses an argument', async () => {
    const result = await runNode(
      cli,
      ['rotate', 'now'],
      cleanEnv({ IDENTITY_KEYS_FILE: keysFile }),
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Unexpected argument "now"');
  });

  it('unlike deleting the key file: then the token the gateway holds is refused', async () => {
    fs.rmSync(keysFile);
    freshFunctionInstance();
    expect(await call()).toBe(401);
  });
});
