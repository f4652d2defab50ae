import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  FunctionHost,
  HostConfigurationError,
  startFunctionHost,
} from '../../../scripts/local/host/server';
import { PortInUseError } from '../../../scripts/local/shared/ports';
import { Fixture, FIXTURE_FUNCTIONS, createFixture } from './support';

const fixtures: Fixture[] = [];
const hosts: FunctionHost[] = [];
const quiet = { log: () => undefined };

function fixture(options: Parameters<typeof createFixture>[0]): Fixture {
  const created = createFixture(options);
  fixtures.push(created);
  return created;
}

afterEach(async () => {
  await Promise.all(hosts.splice(0).map((host) => host.close()));
  for (const created of fixtures.splice(0)) created.remove();
});

describe('local.settings.json', () => {
  it('fills in Values the environment lacks; the environment wins', async () => {
    const names = ['HOST_TEST_FROM_FILE', 'HOST_TEST_BOTH', 'HOST_TEST_EMPTY_IN_ENV'];
    for (const name of names) delete process.env[name];
    process.env.HOST_TEST_BOTH = 'from-environment';
    process.env.HOST_TEST_EMPTY_IN_ENV = '';
    try {
      const project = fixture({
        localSettings: JSON.stringify({
          IsEncrypted: false,
          Values: {
            HOST_TEST_FROM_FILE: 'from-file',
            HOST_TEST_BOTH: 'from-file',
            HOST_TEST_EMPTY_IN_ENV: 'from-file',
          },
        }),
      });
      const host = await startFunctionHost({ projectRoot: project.root, ...quiet });
      hosts.push(host);
      expect(host.settingsFromFile).toEqual(['HOST_TEST_FROM_FILE']);
      const value = async (name: string) =>
        ((await (await fetch(`${host.url}/api/env/${name}`)).json()) as { value: unknown }).value;
      expect(await value('HOST_TEST_FROM_FILE')).toBe('from-file');
      expect(await value('HOST_TEST_BOTH')).toBe('from-environment');
      expect(await value('HOST_TEST_EMPTY_IN_ENV')).toBe('');
    } finally {
      for (const name of names) delete process.env[name];
    }
  });

  it('completes the env object it is given, not process.env, when one is passed', async () => {
    const project = fixture({
      localSettings: JSON.stringify({ Values: { HOST_TEST_ONLY_IN_OBJECT: 'x' } }),
    });
    const env: NodeJS.ProcessEnv = {};
    const host = await startFunctionHost({ projectRoot: project.root, env, ...quiet });
    hosts.push(host);
    expect(env.HOST_TEST_ONLY_IN_OBJECT).toBe('x');
    expect(process.env.HOST_TEST_ONLY_IN_OBJECT).toBeUndefined();
  });

  it.each([
    ['not JSON', '{ "Values": '],
    ['an array', '[]'],
    ['Values that is not an object', '{ "Values": "x" }'],
    ['a value that is not a string', '{ "Values": { "A": 1 } }'],
    ['an encrypted file', '{ "IsEncrypted": true, "Values": {} }'],
  ])('refuses %s, naming the file', async (_name, content) => {
    const project = fixture({ localSettings: content });
    const started = startFunctionHost({ projectRoot: project.root, ...quiet });
    await expect(started).rejects.toThrow(HostConfigurationError);
    await expect(started).rejects.toThrow('local.settings.json');
  });
});

describe('loading the app', () => {
  it('fails clearly when no function calls secureHttp()', async () => {
    const project = fixture({ functions: { 'plain.js': 'exports.nothing = true;\n' } });
    await expect(startFunctionHost({ projectRoot: project.root, ...quiet })).rejects.toThrow(
      /No HTTP triggers were registered/,
    );
  });

  it('fails clearly when nothing matches package.json main (not built yet)', async () => {
    const project = fixture({ main: 'dist/app/*.js' });
    await expect(startFunctionHost({ projectRoot: project.root, ...quiet })).rejects.toThrow(
      /No files match package.json "main" \(dist\/app\/\*\.js\).*npm run build/,
    );
  });

  it('names the function file that fails to load', async () => {
    const project = fixture({
      functions: { ...FIXTURE_FUNCTIONS, 'broken.js': 'throw new Error("cannot load");\n' },
    });
    await expect(startFunctionHost({ projectRoot: project.root, ...quiet })).rejects.toThrow(
      /broken\.js failed: cannot load/,
    );
  });

  it('names the function whose route the host cannot serve', async () => {
    const project = fixture({
      functions: {
        'odd.js': `require('./auth/register').secureHttp('odd', { methods: ['GET'], route: 'files/{name:int}', handler: () => ({}) });\n`,
      },
    });
    await expect(startFunctionHost({ projectRoot: project.root, ...quiet })).rejects.toThrow(
      /Function "odd".*files\/\{name:int\}/,
    );
  });

  it('loads only the files package.json main matches', async () => {
    const project = fixture({ main: 'dist/functions/items.js' });
    const host = await startFunctionHost({ projectRoot: project.root, ...quiet });
    hosts.push(host);
    expect(host.routes.map((route) => route.name).sort()).toEqual(['item', 'special', 'submit']);
  });
});

describe('port', () => {
  it('rejects with a PortInUseError naming the variable when the port is taken', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const project = fixture({});
      const started = startFunctionHost({
        projectRoot: project.root,
        port,
        portVariable: 'PORT',
        ...quiet,
      });
      await expect(started).rejects.toThrow(PortInUseError);
      await expect(started).rejects.toThrow(
        `Port ${port} on 127.0.0.1 is already in use: stop what uses it or set PORT to another port.`,
      );
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});
