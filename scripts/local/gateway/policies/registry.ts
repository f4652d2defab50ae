import authenticationManagedIdentity from './authentication-managed-identity';
import checkHeader from './check-header';
import cors from './cors';
import type { PolicyElement } from './element';
import forwardRequest from './forward-request';
import ipFilter from './ip-filter';
import quota from './quota';
import rateLimit from './rate-limit';
import returnResponse from './return-response';
import rewriteUri from './rewrite-uri';
import setBackendService from './set-backend-service';
import setBody from './set-body';
import setHeader from './set-header';
import setMethod from './set-method';
import setQueryParameter from './set-query-parameter';
import setStatus from './set-status';

/**
 * Every policy element the local gateway implements (besides `<base />`, which the document
 * reader expands). The loader looks elements up here and nowhere else: an element missing from
 * this list is refused at start, naming its line.
 */
export const POLICY_ELEMENTS: readonly PolicyElement[] = [
  setHeader,
  setQueryParameter,
  setBackendService,
  authenticationManagedIdentity,
  rateLimit,
  quota,
  setBody,
  forwardRequest,
  cors,
  returnResponse,
  setStatus,
  checkHeader,
  ipFilter,
  setMethod,
  rewriteUri,
];

const BY_NAME = new Map(POLICY_ELEMENTS.map((element) => [element.name, element]));
if (BY_NAME.size !== POLICY_ELEMENTS.length) {
  throw new Error('Two policy elements share a name in the registry.');
}

export function findPolicyElement(name: string): PolicyElement | undefined {
  return BY_NAME.get(name);
}
