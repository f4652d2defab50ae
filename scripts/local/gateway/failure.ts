import type { GatewayResponse } from './messages';

/**
 * A failed step, as API Management's `context.LastError` would name it (`source`, `reason`): the
 * request goes to on-error with `response` as the response so far.
 * (learn.microsoft.com/azure/api-management/api-management-error-handling-policies)
 */
export class PolicyFailure extends Error {
  constructor(
    readonly source: string,
    readonly reason: string,
    readonly response: GatewayResponse,
    options?: { cause?: unknown },
  ) {
    super(`${source}: ${reason}`, options);
    this.name = 'PolicyFailure';
  }
}

/**
 * A policy that answers the request itself (`return-response`, `mock-response`, `cors` ending a
 * request): the remaining policies do not run, and the client gets `response`, not on-error.
 */
export class PolicyAnswer extends Error {
  constructor(
    readonly source: string,
    readonly response: GatewayResponse,
  ) {
    super(`${source} answered the request`);
    this.name = 'PolicyAnswer';
  }
}
