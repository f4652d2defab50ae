import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Azure Resource Manager's `GET /subscriptions/{id}?api-version=2022-12-01` on 127.0.0.1, as the
 * hooks ask it for the subscription's tenant: 200 with `subscriptionId` and `tenantId` for a known
 * subscription, 404 `SubscriptionNotFound` otherwise, 401 without an accepted token. It also
 * serves `POST {resource id}/listSecrets?api-version=2024-05-01` for API Management subscriptions
 * in `secrets` (the smoke test's key). Every request is recorded, in order.
 */
export class FakeArmSubscriptions {
  /** subscription id -> tenant id; `start` adds none, tests add theirs. */
  readonly subscriptions = new Map<string, string>();
  /** Subscriptions the signed-in account cannot see (404 SubscriptionNotFound). */
  readonly missing = new Set<string>();
  /** API Management subscription resource id -> its primary key. */
  readonly secrets = new Map<string, string>();
  readonly requests: string[] = [];
  /** Display names of the regions where Flex Consumption runs. */
  flexRegions: string[] = [
    'East US',
    'North Europe',
    'Sweden Central',
    'West Europe',
    'Australia East',
  ];
  /** API Management's SKUs as ARM lists them. */
  apimSkus: unknown[] = [
    {
      resourceType: 'service',
      name: 'Consumption',
      locations: ['East US', 'North Europe', 'Sweden Central', 'West Europe', 'Brazil South'],
      restrictions: [],
    },
    {
      resourceType: 'service',
      name: 'StandardV2',
      locations: ['East US', 'North Europe', 'Sweden Central', 'West Europe'],
      restrictions: [],
    },
    { resourceType: 'service', name: 'Developer', locations: ['East US', 'Brazil South'] },
  ];
  /** The signed-in account's permissions on every subscription (Owner: `*`). */
  azurePermissions: unknown[] = [
    { actions: ['*'], notActions: [], dataActions: [], notDataActions: [] },
  ];
  /** Lists answered with this status instead (for example 403), by path suffix. */
  readonly failLists = new Map<string, number>();
  url = '';
  defaultTenant = '';
  private readonly server = http.createServer((req, res) => this.handle(req, res));

  constructor(private readonly accepts: (token: string) => boolean) {}

  async start(defaultTenant: string): Promise<void> {
    this.defaultTenant = defaultTenant;
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** The tenant of a subscription: the one set for it, else the default tenant. */
  tenantOf(subscriptionId: string): string {
    return this.subscriptions.get(subscriptionId) ?? this.defaultTenant;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', this.url);
    this.requests.push(`${req.method ?? ''} ${url.pathname}${url.search}`);
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (bearer === undefined || !this.accepts(bearer)) {
      return send(401, { error: { code: 'InvalidAuthenticationToken', message: 'no token' } });
    }
    const key = this.secrets.get(url.pathname.replace(/\/listSecrets$/, ''));
    if (req.method === 'POST' && url.pathname.endsWith('/listSecrets') && key !== undefined) {
      return send(200, { primaryKey: key, secondaryKey: `${key}-secondary` });
    }
    if (
      req.method === 'GET' &&
      /^\/subscriptions\/[^/]+\/providers\/Microsoft\.Authorization\/permissions$/.test(
        url.pathname,
      )
    ) {
      const failure = this.failLists.get('Microsoft.Authorization/permissions');
      if (failure !== undefined) {
        return send(failure, { error: { code: 'AuthorizationFailed', message: 'permissions' } });
      }
      return url.searchParams.get('api-version') === '2022-04-01'
        ? send(200, { value: this.azurePermissions })
        : send(400, { error: { code: 'InvalidApiVersionParameter', message: 'permissions' } });
    }
    const list =
      /^\/subscriptions\/[^/]+\/providers\/(Microsoft\.Web\/geoRegions|Microsoft\.ApiManagement\/skus)$/.exec(
        url.pathname,
      );
    if (req.method === 'GET' && list) {
      return this.list(list[1]!, url, send);
    }
    const m = /^\/subscriptions\/([^/]+)$/.exec(url.pathname);
    if (req.method !== 'GET' || !m || url.searchParams.get('api-version') !== '2022-12-01') {
      return send(404, { error: { code: 'NotFound', message: `${req.method} ${url.pathname}` } });
    }
    const id = decodeURIComponent(m[1]!);
    if (!/^[0-9a-f-]{36}$/i.test(id) || this.missing.has(id)) {
      return send(404, {
        error: {
          code: 'SubscriptionNotFound',
          message: `The subscription '${id}' could not be found.`,
        },
      });
    }
    send(200, {
      id: `/subscriptions/${id}`,
      subscriptionId: id,
      tenantId: this.tenantOf(id),
      displayName: 'fake subscription',
      state: 'Enabled',
    });
  }

  private list(kind: string, url: URL, send: (status: number, body: unknown) => void): void {
    const failure = this.failLists.get(kind);
    if (failure !== undefined) {
      return send(failure, { error: { code: 'AuthorizationFailed', message: `no ${kind}` } });
    }
    const geo = kind === 'Microsoft.Web/geoRegions';
    if (url.searchParams.get('api-version') !== (geo ? '2023-01-01' : '2024-05-01')) {
      return send(400, { error: { code: 'InvalidApiVersionParameter', message: kind } });
    }
    const items = geo
      ? url.searchParams.get('sku') === 'FlexConsumption'
        ? this.flexRegions.map((name) => ({
            id: `${url.pathname}/${name}`,
            name,
            type: 'Microsoft.Web/geoRegions',
            properties: { displayName: name, orgDomain: 'PUBLIC' },
          }))
        : []
      : this.apimSkus;
    // Two pages, so that a caller that reads only the first misses half of the list.
    const page = url.searchParams.get('page') === '2' ? 2 : 1;
    const half = Math.ceil(items.length / 2);
    const next = new URL(url);
    next.searchParams.set('page', '2');
    send(
      200,
      page === 1
        ? { value: items.slice(0, half), nextLink: next.toString() }
        : { value: items.slice(half) },
    );
  }
}
