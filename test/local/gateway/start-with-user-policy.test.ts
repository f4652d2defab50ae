/**
 * `npm start` with a policy a user wrote: the shipped files plus a `<cors>` element and a policy
 * expression. The stack is Ready, the gateway names at start what it does not run, and the call
 * through the gateway still answers 200. It runs in a copy of the project (package.json, host.json,
 * the build, apim/ with the user's edit, node_modules linked), as the gateway reads apim/ from the
 * project it is started in.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APIM_IDENTITY } from '../../../scripts/local/shared/environment';
import { NodeProcess, ROOT, cleanEnv } from '../../support/node-process';
import { freePort } from '../../support/ports';

const CORS = [
  '    <cors allow-credentials="false">',
  '      <allowed-origins>',
  '        <origin>https://app.example.com</origin>',
  '      </allowed-origins>',
  '      <allowed-methods>',
  '        <method>GET</method>',
  '      </allowed-methods>',
  '      <allowed-headers>',
  '        <header>Ocp-Apim-Subscription-Key</header>',
  '      </allowed-headers>',
  '    </cors>',
];
const EXPRESSION = [
  '    <set-header name="X-Served-At" exists-action="override">',
  '      <value>@(DateTime.UtcNow.ToString("o"))</value>',
  '    </set-header>',
];

let project: string;
let apiXml: string[];

beforeAll(() => {
  project = fs.mkdtempSync(path.join(os.tmpdir(), 'user-policy-'));
  for (const file of ['package.json', 'host.json']) {
    fs.copyFileSync(path.join(ROOT, file), path.join(project, file));
  }
  fs.cpSync(path.join(ROOT, 'dist'), path.join(project, 'dist'), { recursive: true });
  fs.cpSync(path.join(ROOT, 'apim'), path.join(project, 'apim'), { recursive: true });
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(project, 'node_modules'), 'dir');
  const file = path.join(project, 'apim', 'policies', 'api.xml');
  const shipped = fs.readFileSync(file, 'utf8');
  const edited = shipped
    .replace('<inbound>\n    <base />', `<inbound>\n    <base />\n${CORS.join('\n')}`)
    .replace('<outbound>\n    <base />', `<outbound>\n    <base />\n${EXPRESSION.join('\n')}`);
  expect(edited).not.toBe(shipped);
  fs.writeFileSync(file, edited);
  apiXml = edited.split('\n');
});

afterAll(() => {
  fs.rmSync(project, { recursive: true, force: true });
});

describe('npm start with a <cors> element and a policy expression added to api.xml', () => {
  it('is Ready, names what the gateway skips, and the call through the gateway answers 200', async () => {
    const gatewayPort = await freePort();
    const env = cleanEnv({
      IDENTITY_PORT: String(await freePort()),
      FUNCTIONS_PORT: String(await freePort()),
      GATEWAY_PORT: String(gatewayPort),
      IDENTITY_KEYS_FILE: path.join(project, '.local', 'keys.json'),
      LOCAL_FUNCTION_HOST: 'builtin',
    });
    const start = new NodeProcess(
      path.join(project, 'dist', 'scripts', 'local', 'start', 'main.js'),
      [],
      env,
      project,
    );
    try {
      await start.waitFor(/^Press Ctrl-C to stop\.$/m, 30_000);
      expect(start.stdout).toMatch(/^Ready:$/m);

      const expressionLine =
        1 + apiXml.findIndex((line) => line.startsWith('    <set-header name="X-Served-At"'));
      const named = start.stdout.split('\n').filter((line) => line.includes('not run locally'));
      expect(named).toEqual([
        expect.stringMatching(
          new RegExp(
            `^\\[gateway\\] apim/policies/api\\.xml:${expressionLine}: <set-header> not run locally \\(.*policy expression \\(@\\(DateTime\\.UtcNow\\.ToString\\("o"\\)\\)\\).*; in Azure it changes requests or responses`,
          ),
        ),
      ]);

      const origin = 'https://app.example.com';
      const reply = await fetch(`http://127.0.0.1:${gatewayPort}/api/whoami`, {
        headers: { 'Ocp-Apim-Subscription-Key': 'local-only-subscription-key', Origin: origin },
      });
      expect(reply.status).toBe(200);
      expect(await reply.json()).toMatchObject({ objectId: APIM_IDENTITY.objectId });
      expect(reply.headers.get('access-control-allow-origin')).toBe(origin);
      expect(reply.headers.get('x-served-at')).toBeNull();

      await start.stop('SIGINT');
      // Named once, at start, whatever the number of calls.
      expect(start.stdout.split('not run locally')).toHaveLength(2);
    } finally {
      await start.stop('SIGKILL');
    }
  });
});
