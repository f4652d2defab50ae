import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFileKeyStore } from '../../../scripts/local/identity/keys';
import { IdentityServer, startIdentityServer } from '../../../scripts/local/identity/server';
import {
  APIM_IDENTITY,
  INTRUDER_IDENTITY,
  LOCAL_API_APP_ID_URI,
  LOCAL_API_CLIENT_ID,
} from '../../../scripts/local/shared/environment';
import { NodeProcess, cleanEnv, runNode, script } from '../../support/node-process';
import { fetchJson, verifyAgainstJwks } from './support';

const cli = script('local/identity/main');
let dir: string;
let keysFile: string;
let server: IdentityServer;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'identity-cli-'));
  keysFile = path.join(dir, 'keys.json');
  // A running stand-in and the mint command share the key file, as under `npm start`.
  server = await startIdentityServer({ keys: openFileKeyStore(keysFile), log: () => undefined });
  env = cleanEnv({ IDENTITY_KEYS_FILE: keysFile, IDENTITY_PORT: String(server.port) });
});
afterAll(async () => {
  await server.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('npm run identity -- mint', () => {
  it("prints only a token that the running stand-in's JWKS verifies, with its issuer", async () => {
    const { code, stdout, stderr } = await runNode(cli, ['mint', 'apim'], env);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const { payload } = await verifyAgainstJwks(stdout.trim(), server.urls.jwksUri, {
      issuer: server.urls.issuerV2,
      audience: LOCAL_API_CLIENT_ID,
    });
    expect(payload.oid).toBe(APIM_IDENTITY.objectId);
    expect(payload.ver).toBe('2.0');
  });

  it('takes --version, --audience (also as --flag=value) and --lifetime', async () => {
    const { code, stdout } = await runNode(
      cli,
      [
        'mint',
        'intruder',
        '--version',
        '1',
        `--audience=${LOCAL_API_APP_ID_URI}`,
        '--lifetime',
        '120',
      ],
      env,
    );
    expect(code).toBe(0);
    const { header, payload } = await verifyAgainstJwks(stdout.trim(), server.urls.jwksUri, {
      issuer: server.urls.issuerV1,
      audience: LOCAL_API_APP_ID_URI,
    });
    expect(header.x5t).toBe(header.kid);
    expect(payload.appid).toBe(INTRUDER_IDENTITY.clientId);
    expect(payload.exp! - payload.iat!).toBe(120);
  });

  it.each([
    ['an unknown identity', ['mint', 'nobody'], 'Unknown local identity'],
    ['no identity', ['mint'], 'needs the name'],
    ['an unknown option', ['mint', 'apim', '--scope', 'x'], 'Unknown option --scope'],
    ['a bad version', ['mint', 'apim', '--version', '3'], '--version must be 1 or 2'],
    ['a bad lifetime', ['mint', 'apim', '--lifetime', 'soon'], '--lifetime must be'],
    ['a lifetime too long', ['mint', 'apim', '--lifetime', '999999'], 'from 1 to 86400'],
    ['a flag without value', ['mint', 'apim', '--audience'], '--audience needs a value'],
    ['an extra argument', ['mint', 'apim', 'intruder'], 'Unexpected argument'],
    ['an unknown command', ['frobnicate'], 'Unknown command'],
  ])('refuses %s: usage on stderr, nothing on stdout, exit 2', async (_name, args, reason) => {
    const { code, stdout, stderr } = await runNode(cli, args, env);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(reason);
    expect(stderr).toContain('Usage:');
  });

  it('refuses a malformed IDENTITY_PORT, naming it', async () => {
    const { code, stderr } = await runNode(cli, ['mint', 'apim'], {
      ...env,
      IDENTITY_PORT: 'seven',
    });
    expect(code).toBe(2);
    expect(stderr).toContain('IDENTITY_PORT');
  });

  it('help prints the usage on stdout', async () => {
    const { code, stdout } = await runNode(cli, ['help'], env);
    expect(code).toBe(0);
    expect(stdout).toContain('mint <identity>');
    expect(stdout).toContain('apim');
    expect(stdout).toContain('intruder');
  });
});

describe('npm run identity (serve)', () => {
  it('serves on IDENTITY_PORT, prints the URLs, identities and app settings, and stops on SIGTERM', async () => {
    const serving = new NodeProcess(cli, ['serve'], {
      ...env,
      IDENTITY_PORT: '0',
      IDENTITY_HEADER: 'cli-test-header',
    });
    try {
      const [, url] = await serving.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      await serving.waitFor(/Ctrl-C/);
      expect(serving.stdout).toContain(`${url}/msi/apim/token`);
      expect(serving.stdout).toContain(`${url}/msi/intruder/token`);
      expect(serving.stdout).toContain(`AUTH_JWKS_URI=${url}/`);
      expect(serving.stdout).toContain(`AUTH_ALLOWED_CALLER_OBJECT_IDS=${APIM_IDENTITY.objectId}`);
      const token = await fetchJson(
        `${url}/msi/apim/token?api-version=2019-08-01&resource=${LOCAL_API_CLIENT_ID}`,
        {
          headers: { 'X-IDENTITY-HEADER': 'cli-test-header' },
        },
      );
      expect(token.status).toBe(200);
      // Signed with the shared key file: the stand-in started in this test publishes the same key.
      const { header } = jwt.decode(token.body.access_token, { complete: true })!;
      expect(header.kid).toBe(openFileKeyStore(keysFile).signer().kid);
      const finished = await serving.stop('SIGTERM');
      expect(finished.code).toBe(0);
      expect(serving.output).not.toContain(token.body.access_token);
      expect(serving.output).not.toContain('cli-test-header');
    } finally {
      await serving.stop('SIGKILL');
    }
  });

  it('exits 1 naming IDENTITY_PORT when the port is taken', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const { code, stderr } = await runNode(cli, ['serve'], {
        ...env,
        IDENTITY_PORT: String(port),
      });
      expect(code).toBe(1);
      expect(stderr).toContain(`Port ${port}`);
      expect(stderr).toContain('IDENTITY_PORT');
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});
