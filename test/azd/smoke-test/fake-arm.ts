import http from 'node:http';
import type { AddressInfo } from 'node:net';

export const RESOURCE_ID =
  '/subscriptions/0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d/resourceGroups/rg-dev/providers/' +
  'Microsoft.ApiManagement/service/apim-dev/subscriptions/smoke';
export const ARM_TOKEN = 'fake-arm-token';

export interface ArmRequest {
  method: string;
  url: string;
  authorization: string | undefined;
}

/** A loopback Azure Resource Manager that serves listSecrets for one API Management subscription. */
export async function startFakeArm(key: string, status = 200) {
  const requests: ArmRequest[] = [];
  const server = http.createServer((req, res) => {
    requests.push({
      method: req.method ?? '',
      url: req.url ?? '',
      authorization: req.headers.authorization,
    });
    if (req.headers.authorization !== `Bearer ${ARM_TOKEN}`) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end('{"error":{"code":"AuthenticationFailed","message":"no"}}');
      return;
    }
    if (status === 403) {
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          error: {
            code: 'AuthorizationFailed',
            message: 'The client does not have authorization to perform action.',
          },
        }),
      );
      return;
    }
    if (req.method === 'POST' && req.url === `${RESOURCE_ID}/listSecrets?api-version=2024-05-01`) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ primaryKey: key, secondaryKey: `${key}-secondary` }));
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"error":{"code":"NotFound","message":"not found"}}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
