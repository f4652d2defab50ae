/**
 * `npm start` (dist/scripts/local/start/main.js) runs the gateway as its third service: the curl it prints
 * works as printed, a key the user chose is never printed, and a taken GATEWAY_PORT is named.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APIM_IDENTITY } from '../../../scripts/local/shared/environment';
import { NodeProcess, cleanEnv, runNode, script } from '../../support/node-process';
import { freePort } from '../../support/ports';

let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'start-gateway-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

async function environment(extra: Record<string, string> = {}) {
  const gatewayPort = await freePort();
  const env = cleanEnv({
    IDENTITY_PORT: String(await freePort()),
    FUNCTIONS_PORT: String(await freePort()),
    GATEWAY_PORT: String(gatewayPort),
    IDENTITY_KEYS_FILE: path.join(dir, 'keys.json'),
    LOCAL_FUNCTION_HOST: 'builtin',
    ...extra,
  });
  return { env, gatewayPort };
}

/** Runs a printed command line with sh, as a user pasting it would. */
function shell(command: string, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('sh', ['-c', `${command} --silent --show-error`], { env }, (error, stdout) => {
      if (error) reject(new Error(`${command} failed`, { cause: error }));
      else resolve(stdout);
    });
  });
}

/** The printed curl is also run as printed where curl is installed (fetch covers it elsewhere). */
const curlAvailable = (process.env.PATH ?? '')
  .split(path.delimiter)
  .some((folder) => folder !== '' && fs.existsSync(path.join(folder, 'curl')));

describe('npm start with the gateway', () => {
  it('prints a curl through the gateway that returns 200 with API Management identity', async () => {
    const { env, gatewayPort } = await environment();
    const start = new NodeProcess(script('local/start/main'), [], env);
    try {
      await start.waitFor(/^Press Ctrl-C to stop\.$/m, 30_000);
      expect(start.stdout).toContain(`gateway            http://127.0.0.1:${gatewayPort}/api/`);
      const [curl, key, url] = start.stdout.match(
        /curl -i -H 'Ocp-Apim-Subscription-Key: ([^']+)' (http:\/\/127\.0\.0\.1:\d+\/api\/whoami)/,
      )!;
      expect(url).toBe(`http://127.0.0.1:${gatewayPort}/api/whoami`);

      // What the printed command does, with fetch (and with curl itself where it is installed).
      const reply = await fetch(url!, { headers: { 'Ocp-Apim-Subscription-Key': key! } });
      expect(reply.status).toBe(200);
      expect(await reply.json()).toMatchObject({ objectId: APIM_IDENTITY.objectId });
      if (curlAvailable) {
        const output = await shell(curl, env);
        expect(output).toMatch(/^HTTP\/1\.1 200 OK/);
        expect(output).toContain(APIM_IDENTITY.objectId);
      }
      const refused = await fetch(url!);
      expect(refused.status).toBe(401);
      await refused.arrayBuffer();

      const finished = await start.stop('SIGINT');
      expect(finished.code).toBe(0);
      expect(start.stdout).toMatch(/\[gateway\] GET \/api\/whoami 200 \d+ms/);
      expect(start.stdout).toMatch(/\[gateway\] GET \/api\/whoami 401 \d+ms/);
      const probe = net.createServer();
      await new Promise<void>((resolve, reject) => {
        probe.once('error', reject);
        probe.listen(gatewayPort, '127.0.0.1', resolve);
      });
      await new Promise((resolve) => probe.close(resolve));
    } finally {
      await start.stop('SIGKILL');
    }
  });

  it('refers to a key set in LOCAL_SUBSCRIPTION_KEY by name and never prints it', async () => {
    const key = 'start-test-key-5c4b3a';
    const { env, gatewayPort } = await environment({ LOCAL_SUBSCRIPTION_KEY: key });
    const start = new NodeProcess(script('local/start/main'), [], env);
    try {
      await start.waitFor(/^Press Ctrl-C to stop\.$/m, 30_000);
      expect(start.stdout).toContain(
        `curl -i -H "Ocp-Apim-Subscription-Key: $LOCAL_SUBSCRIPTION_KEY" http://127.0.0.1:${gatewayPort}/api/whoami`,
      );
      const reply = await fetch(`http://127.0.0.1:${gatewayPort}/api/hello?name=x`, {
        headers: { 'Ocp-Apim-Subscription-Key': key },
      });
      expect(reply.status).toBe(200);
      await reply.arrayBuffer();
      await start.stop('SIGINT');
      expect(start.output).not.toContain(key);
    } finally {
      await start.stop('SIGKILL');
    }
  });

  it('exits 1 naming GATEWAY_PORT when that port is taken', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const { env } = await environment({ GATEWAY_PORT: String(port) });
      const { code, stderr } = await runNode(script('local/start/main'), [], env, {
        timeoutMs: 30_000,
      });
      expect(code).toBe(1);
      expect(stderr).toContain(
        `Port ${port} on 127.0.0.1 is already in use: stop what uses it or set GATEWAY_PORT to another port.`,
      );
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});
