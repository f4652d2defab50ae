import { HeaderMap } from '../../../../scripts/local/gateway/messages';
import type {
  ExecutionContext,
  GatewayServices,
  Scope,
  Statement,
} from '../../../../scripts/local/gateway/policies/element';
import { parsePolicy } from '../../../../scripts/local/gateway/policy';

/**
 * Compiles one element in the inbound section of a policy at `scope`; throws an Error with the
 * reason when the gateway would skip it (and name it at start) instead.
 */
export function compileOne(xml: string, scope: Scope): Statement {
  const document = parsePolicy(
    `<policies>\n  <inbound>\n    ${xml}\n  </inbound>\n</policies>`,
    'test.xml',
    { namedValues: {}, backendIds: ['function-app'] },
    scope,
  );
  const statement = document.sections.inbound[0];
  if (statement?.kind === 'skipped') throw new Error(`not run locally: ${statement.reason}`);
  if (statement?.kind !== 'statement') throw new Error('no statement');
  return statement;
}

/** An inbound execution of one GET request by subscription `sub`. */
export function execution(services: Partial<GatewayServices> = {}): ExecutionContext {
  return {
    section: 'inbound',
    state: {
      request: {
        method: 'GET',
        clientAddress: '127.0.0.1',
        operationPath: '/hello',
        query: new URLSearchParams(),
        headers: new HeaderMap(),
        body: Buffer.alloc(0),
      },
      subscriptionId: 'sub',
      backendUrl: undefined,
      response: undefined,
      finalHeaders: new HeaderMap(),
    },
    services: {
      backends: {},
      credential: undefined,
      backendTimeoutMs: 1000,
      subscriptionKey: { header: 'Ocp-Apim-Subscription-Key', query: 'subscription-key' },
      log: () => undefined,
      now: () => 0,
      ...services,
    },
  };
}

/** What running `statement` throws (a PolicyFailure, for an element that refuses the request). */
export async function failureOf(statement: Statement, context: ExecutionContext): Promise<unknown> {
  try {
    await statement.run(context);
  } catch (error: unknown) {
    return error;
  }
  throw new Error('the statement let the request through; a refusal was expected');
}
