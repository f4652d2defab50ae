import { HookError } from './errors';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * Parses a service base URL taken from a setting (for example `GRAPH_ENDPOINT`). Tokens are sent
 * to this URL, so it must be HTTPS, or plain HTTP on the loopback interface (tests and local
 * stand-ins); it may not carry credentials, a query or a fragment.
 */
export function parseServiceEndpoint(setting: string, value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new HookError('invalid_setting', `${setting} is not a valid URL.`);
  }
  const loopbackHttp = url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
  if (url.protocol !== 'https:' && !loopbackHttp) {
    throw new HookError(
      'invalid_setting',
      `${setting} must be an https:// URL (plain http:// is accepted only for 127.0.0.1, [::1] or localhost).`,
    );
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new HookError(
      'invalid_setting',
      `${setting} must not contain credentials, a query string or a fragment.`,
    );
  }
  return url;
}

/**
 * The token scope for a service: `{origin}/.default` for an HTTPS endpoint (so sovereign clouds
 * work), and the public cloud's scope for a loopback stand-in, which never checks it.
 */
export function scopeForEndpoint(endpoint: URL, publicCloudScope: string): string {
  return endpoint.protocol === 'https:' ? `${endpoint.origin}/.default` : publicCloudScope;
}
