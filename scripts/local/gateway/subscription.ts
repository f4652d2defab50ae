import crypto from 'node:crypto';
import type http from 'node:http';
import { PolicyFailure } from './failure';
import { APIM_MESSAGES, apimResponse } from './messages';
import type { SubscriptionKeyNames } from './policies/element';
import type { Subscription } from './pipeline';

/**
 * The subscription key check API Management makes before any policy runs: the key from the
 * header or the query (the API's subscriptionKeyParameterNames), compared in constant time. A
 * missing or invalid key is the built-in error SubscriptionKeyNotFound or SubscriptionKeyInvalid
 * (source `authorization`), a 401 with API Management's body and its challenge
 * `WWW-Authenticate: AzureApiManagementKey realm="<gateway>/<api path>",name="<header>",type="header"`.
 */

export interface KnownSubscription extends Subscription {
  readonly key: string;
}

export type KeyCheck =
  | { readonly ok: true; readonly subscription: Subscription }
  | { readonly ok: false; readonly failure: PolicyFailure };

function keysEqual(expected: string, actual: string): boolean {
  const a = crypto.createHash('sha256').update(expected).digest();
  const b = crypto.createHash('sha256').update(actual).digest();
  return crypto.timingSafeEqual(a, b);
}

export function checkSubscriptionKey(
  req: http.IncomingMessage,
  query: URLSearchParams,
  names: SubscriptionKeyNames,
  subscriptions: readonly KnownSubscription[],
  realm: string,
): KeyCheck {
  const refuse = (reason: string, message: string): KeyCheck => ({
    ok: false,
    failure: new PolicyFailure(
      'authorization',
      reason,
      apimResponse(401, message, {
        'WWW-Authenticate': `AzureApiManagementKey realm="${realm}",name="${names.header}",type="header"`,
      }),
    ),
  });
  const fromHeader = req.headersDistinct[names.header.toLowerCase()];
  const fromQuery = query.getAll(names.query);
  const presented = fromHeader ?? (fromQuery.length > 0 ? fromQuery : undefined);
  if (!presented) return refuse('SubscriptionKeyNotFound', APIM_MESSAGES.missingKey);
  // Every known key is compared, so the time taken does not tell which one matched.
  const matches = subscriptions.filter(
    (known) => presented.length === 1 && keysEqual(known.key, presented[0]!),
  );
  const match = matches[0];
  if (!match) return refuse('SubscriptionKeyInvalid', APIM_MESSAGES.invalidKey);
  return { ok: true, subscription: { id: match.id, scope: match.scope } };
}
