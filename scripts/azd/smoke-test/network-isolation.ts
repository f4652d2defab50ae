/**
 * NETWORK_ISOLATION=true: which layer refused a direct call to the Function App. The variant's
 * claim is that the network refuses it, before App Service Authentication and the code:
 *
 * - App Service access restrictions answer 403 with the platform's own page
 *   (learn.microsoft.com/azure/app-service/app-service-ip-restrictions); its wording differs by
 *   platform ("Ip Forbidden", "... has blocked your access", "You do not have permission to view
 *   this directory or page.") and is not documented exactly, so the page is reported, not required;
 * - a private endpoint with public access off makes the connection itself fail (no response);
 * - Easy Auth answers a call without a token with 401 and `WWW-Authenticate` (Return401), and the
 *   function code with a problem+json body that has a `code`: either means the network let it in.
 */
import { answeredByFunctionCode, type Exchange } from './exchange';

export type RefusingLayer = 'network' | 'app-service-authentication' | 'function-code' | 'none';

export interface DirectCallVerdict {
  readonly layer: RefusingLayer;
  readonly detail: string;
}

const PLATFORM_PAGE = /ip forbidden|blocked your access|do not have permission to view/i;

/** Classifies the answer to a direct call made without a valid token. */
export function refusingLayer(exchange: Exchange): DirectCallVerdict {
  if (exchange.error !== undefined) {
    return {
      layer: 'network',
      detail: `no connection (${exchange.error}): refused by the network, as a private endpoint does`,
    };
  }
  if (exchange.status >= 200 && exchange.status < 300) {
    return { layer: 'none', detail: `${exchange.status}: nothing refused it` };
  }
  if (answeredByFunctionCode(exchange)) {
    return {
      layer: 'function-code',
      detail: `${exchange.status} from the function code: the network and App Service Authentication let it in`,
    };
  }
  if (exchange.status === 401 || exchange.headers.has('www-authenticate')) {
    return {
      layer: 'app-service-authentication',
      detail: `${exchange.status} from App Service Authentication: the network let it in`,
    };
  }
  if (exchange.status === 403) {
    return {
      layer: 'network',
      detail: PLATFORM_PAGE.test(exchange.body)
        ? "403 with App Service's access restriction page: refused by the network layer"
        : "403 from the platform (not App Service Authentication, not the code); the page is not App Service's usual access restriction wording",
    };
  }
  return {
    layer: 'none',
    detail: `${exchange.status}: not a refusal by the network, App Service Authentication or the code`,
  };
}
