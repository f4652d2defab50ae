/**
 * The built-in host with the real built app (dist/, compiled by the global setup): every trigger
 * that secureHttp() registered is served, and each one refuses a request without a token.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FunctionHost, startFunctionHost } from '../../../scripts/local/host/server';
import { localFunctionAppSettings } from '../../../scripts/local/shared/environment';
import { NodeProcess, ROOT, cleanEnv, runNode, script } from '../../support/node-process';

let host: FunctionHost;

beforeAll(async () => {
  // A JWKS address nothing listens on: requests without a token never need the keys.
  Object.assign(process.env, localFunctionAppSettings('http://127.0.0.1:9'));
  host = await startFunctionHost({ projectRoot: ROOT, port: 0, log: () => undefined });
});
afterAll(async () => {
  await host.close();
});

describe('the built app in the built-in host', () => {
  it('serves exactly the triggers the app registers', () => {
    expect(
      host.routes
        .map(({ name, methods, route }) => ({ name, methods: [...methods], route }))
        .sort((a, b) => a.name.localeCompare(b.name)),
    ).toEqual([
      { name: 'hello', methods: ['GET'], route: 'hello' },
      { name: 'whoami', methods: ['GET'], route: 'whoami' },
    ]);
  });

  it('every registered route and method refuses a request without a token (401, not 404)', async () => {
    for (const route of host.routes) {
      for (const method of route.methods) {
        const response = await fetch(route.url, { method });
        expect({ route: route.name, method, status: response.status }).toEqual({
          route: route.name,
          method,
          status: 401,
        });
        expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
        expect(response.headers.get('content-type')).toBe('application/problem+json');
        await response.arrayBuffer();
      }
    }
  });

  it('answers other methods on a registered route with 405', async () => {
    const route = host.routes.find((candidate) => candidate.route === 'hello')!;
    const response = await fetch(route.url, { method: 'DELETE' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe(route.methods.join(', '));
  });
});

describe('npm run serve (dist/scripts/local/host/main.js)', () => {
  it('listens on PORT, lists the routes, and stops on SIGINT', async () => {
    const serving = new NodeProcess(
      script('local/host/main'),
      [],
      cleanEnv({ PORT: '0', ...localFunctionAppSettings('http://127.0.0.1:9') }),
    );
    try {
      const [, url] = await serving.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      await serving.waitFor(/Ctrl-C/);
      expect(serving.stdout).toContain(`${url}/api/hello`);
      expect(serving.stdout).toContain(`${url}/api/whoami`);
      expect(serving.output).not.toContain('test mode');
      expect((await fetch(`${url}/api/hello`)).status).toBe(401);
      const finished = await serving.stop('SIGINT');
      expect(finished.code).toBe(0);
    } finally {
      await serving.stop('SIGKILL');
    }
  });

  it('exits 1 naming PORT when the port is taken', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const { code, stderr } = await runNode(
        script('local/host/main'),
        [],
        cleanEnv({ PORT: String(port) }),
      );
      expect(code).toBe(1);
      expect(stderr).toContain(
        `Port ${port} on 127.0.0.1 is already in use: stop what uses it or set PORT to another port.`,
      );
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('exits 1 naming PORT when it is not a port', async () => {
    const { code, stderr } = await runNode(
      script('local/host/main'),
      [],
      cleanEnv({ PORT: 'http' }),
    );
    expect(code).toBe(1);
    expect(stderr).toContain('PORT must be a port number');
  });
});
