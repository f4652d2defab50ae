import { PolicyFailure } from '../failure';
import { ForwardError, forwardRequest } from '../forward';
import { internalErrorResponse } from '../messages';
import { policyElement } from './element';

/**
 * `forward-request` (learn.microsoft.com/azure/api-management/forward-request-policy): backend
 * only. `timeout` in seconds (API Management's default 300; the Consumption tier caps a request
 * at 30 s, includes/api-management-service-limits.md, so the shipped policies set it). A timeout
 * or an unreachable backend is answered 500 with API Management's generic body, not 504
 * (MicrosoftDocs/azure-docs#109013 and captured responses).
 */

/** The Consumption tier's cap on one request, in seconds. */
export const CONSUMPTION_REQUEST_CAP_SECONDS = 30;

export default policyElement<{ readonly timeoutSeconds: number | undefined }>({
  name: 'forward-request',
  sections: ['backend'],
  attributes: ['timeout'],
  parse(element, attributes, { reader }) {
    reader.noChildren(element);
    const timeoutSeconds = attributes.has('timeout')
      ? reader.wholeNumber(element, attributes, 'timeout', { max: 300 })
      : undefined;
    return { timeoutSeconds };
  },
  async execute({ timeoutSeconds }, { state, services }) {
    if (!state.backendUrl) {
      throw new PolicyFailure('forward-request', 'BackendNotSet', internalErrorResponse());
    }
    // Whatever the policies did, the subscription key never leaves the gateway.
    state.request.headers.delete(services.subscriptionKey.header);
    state.request.query.delete(services.subscriptionKey.query);
    const timeoutMs =
      timeoutSeconds === undefined ? services.backendTimeoutMs : timeoutSeconds * 1000;
    try {
      state.response = await forwardRequest(state.backendUrl, state.request, timeoutMs);
    } catch (error: unknown) {
      const reason = error instanceof ForwardError ? error.reason : 'BackendConnectionFailure';
      throw new PolicyFailure('forward-request', reason, internalErrorResponse(), {
        cause: error,
      });
    }
  },
});
