import type { TokenCredential } from '@azure/identity';
import { ForwardError, forwardRequest } from './forward';
import {
  APIM_MESSAGES,
  apimResponse,
  HeaderMap,
  type GatewayRequest,
  type GatewayResponse,
} from './messages';
import { effectiveSection, type PolicyDocument, type Section, type Statement } from './policy';
import type { SubscriptionKeyNames } from './openapi';

/**
 * Runs the policies of one request in API Management's order: inbound, backend, outbound, and
 * on-error when any step fails. Statements come from the scopes outermost first (global, product,
 * API), each `<base />` standing for the enclosing scope's section.
 */

export interface PipelineOptions {
  /** Outermost first: global, product, API. */
  readonly scopes: readonly PolicyDocument[];
  /** Backend id to base URL, for `set-backend-service backend-id`. */
  readonly backends: Readonly<Record<string, string>>;
  /** Gets tokens for `authentication-managed-identity`; required when a policy uses it. */
  readonly credential: TokenCredential | undefined;
  /** Timeout of `forward-request` when the policy sets none. */
  readonly backendTimeoutMs: number;
  readonly subscriptionKey: SubscriptionKeyNames;
  /** Diagnostics; never given a token, key or header value. */
  readonly log: (line: string) => void;
  /** Milliseconds since the epoch, for rate limits. */
  readonly now?: () => number;
}

/** A failed step, as API Management's `context.LastError` would describe it. */
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

interface Context {
  readonly request: GatewayRequest;
  readonly subscriptionId: string;
  backendUrl: string | undefined;
  response: GatewayResponse | undefined;
}

/** The Entra error code in a credential's error message, if any (AADSTS500011 and friends). */
function entraErrorCode(error: unknown): string | undefined {
  const message = error instanceof Error ? error.message : '';
  return /AADSTS\d+/.exec(message)?.[0];
}

export class Pipeline {
  private readonly sections: Readonly<Record<Section, readonly Statement[]>>;
  private readonly windows = new Map<string, { start: number; count: number }>();
  private readonly now: () => number;

  constructor(private readonly options: PipelineOptions) {
    this.sections = {
      inbound: effectiveSection(options.scopes, 'inbound'),
      backend: effectiveSection(options.scopes, 'backend'),
      outbound: effectiveSection(options.scopes, 'outbound'),
      'on-error': effectiveSection(options.scopes, 'on-error'),
    };
    this.now = options.now ?? Date.now;
  }

  /** The statements a section runs, `<base />` expanded. */
  statements(section: Section): readonly Statement[] {
    return this.sections[section];
  }

  async run(request: GatewayRequest, subscriptionId: string): Promise<GatewayResponse> {
    const context: Context = {
      request,
      subscriptionId,
      backendUrl: undefined,
      response: undefined,
    };
    try {
      await this.execute('inbound', context);
      await this.execute('backend', context);
      context.response ??= { status: 200, headers: new HeaderMap(), body: Buffer.alloc(0) };
      await this.execute('outbound', context);
      return context.response;
    } catch (error: unknown) {
      const failure =
        error instanceof PolicyFailure
          ? error
          : new PolicyFailure(
              'gateway',
              'InternalError',
              apimResponse(500, APIM_MESSAGES.internalError),
              {
                cause: error,
              },
            );
      this.options.log(`error: ${failure.source} ${failure.reason}`);
      context.response = failure.response;
      try {
        await this.execute('on-error', context);
        return context.response;
      } catch (onErrorFailure: unknown) {
        const reason =
          onErrorFailure instanceof PolicyFailure ? onErrorFailure.reason : 'InternalError';
        this.options.log(`error: on-error section failed (${reason})`);
        return apimResponse(500, APIM_MESSAGES.internalError);
      }
    }
  }

  private async execute(section: Section, context: Context): Promise<void> {
    for (const statement of this.sections[section]) {
      await this.apply(statement, section, context);
    }
  }

  private async apply(statement: Statement, section: Section, context: Context): Promise<void> {
    const onResponse = section === 'outbound' || section === 'on-error';
    switch (statement.kind) {
      case 'base':
        return; // expanded by effectiveSection
      case 'set-header': {
        const headers = onResponse ? context.response!.headers : context.request.headers;
        applyExistsAction(headers, statement.name, statement.action, statement.values);
        return;
      }
      case 'set-query-parameter':
        applyQueryAction(context.request.query, statement.name, statement.action, statement.values);
        return;
      case 'set-backend-service':
        context.backendUrl = this.options.backends[statement.backendId];
        return;
      case 'set-body':
        if (onResponse) context.response!.body = Buffer.from(statement.body);
        else context.request.body = Buffer.from(statement.body);
        return;
      case 'rate-limit':
        this.rateLimit(statement, context);
        return;
      case 'authentication-managed-identity':
        await this.managedIdentity(statement, context);
        return;
      case 'forward-request':
        await this.forward(statement, context);
        return;
    }
  }

  private rateLimit(statement: Extract<Statement, { kind: 'rate-limit' }>, context: Context): void {
    const key = `${context.subscriptionId}\n${statement.at.file}:${statement.at.line}`;
    const now = this.now();
    const period = statement.renewalPeriodSeconds * 1000;
    let window = this.windows.get(key);
    if (!window || now - window.start >= period) {
      window = { start: now, count: 0 };
      this.windows.set(key, window);
    }
    window.count += 1;
    if (window.count > statement.calls) {
      const retryAfter = Math.max(1, Math.ceil((window.start + period - now) / 1000));
      throw new PolicyFailure(
        'rate-limit',
        'RateLimitExceeded',
        apimResponse(429, `Rate limit is exceeded. Try again in ${retryAfter} seconds.`, {
          'Retry-After': String(retryAfter),
        }),
      );
    }
  }

  private async managedIdentity(
    statement: Extract<Statement, { kind: 'authentication-managed-identity' }>,
    context: Context,
  ): Promise<void> {
    const credential = this.options.credential;
    let token: string | undefined;
    let cause: unknown;
    try {
      if (!credential) throw new Error('No credential configured.');
      token = (await credential.getToken(`${statement.resource}/.default`))?.token;
    } catch (error: unknown) {
      cause = error;
    }
    if (token) {
      context.request.headers.set('Authorization', [`Bearer ${token}`]);
      return;
    }
    const code = entraErrorCode(cause);
    this.options.log(
      `authentication-managed-identity: no token for resource ${statement.resource}` +
        (code ? ` (${code})` : '') +
        (statement.ignoreError ? '; ignore-error="true", continuing without one' : ''),
    );
    if (statement.ignoreError) return;
    throw new PolicyFailure(
      'authentication-managed-identity',
      'TokenAcquisitionFailed',
      apimResponse(500, APIM_MESSAGES.internalError),
      { cause },
    );
  }

  private async forward(
    statement: Extract<Statement, { kind: 'forward-request' }>,
    context: Context,
  ): Promise<void> {
    if (!context.backendUrl) {
      throw new PolicyFailure(
        'forward-request',
        'BackendNotSet',
        apimResponse(500, APIM_MESSAGES.internalError),
      );
    }
    // Whatever the policies did, the subscription key never leaves the gateway.
    context.request.headers.delete(this.options.subscriptionKey.header);
    context.request.query.delete(this.options.subscriptionKey.query);
    const timeoutMs =
      statement.timeoutSeconds === undefined
        ? this.options.backendTimeoutMs
        : statement.timeoutSeconds * 1000;
    try {
      context.response = await forwardRequest(context.backendUrl, context.request, timeoutMs);
    } catch (error: unknown) {
      const reason = error instanceof ForwardError ? error.reason : 'BackendConnectionFailure';
      const status = reason === 'Timeout' ? 504 : 500;
      const message = reason === 'Timeout' ? 'Gateway timeout' : APIM_MESSAGES.internalError;
      throw new PolicyFailure('forward-request', reason, apimResponse(status, message), {
        cause: error,
      });
    }
  }
}

export function applyExistsAction(
  headers: HeaderMap,
  name: string,
  action: Extract<Statement, { kind: 'set-header' }>['action'],
  values: readonly string[],
): void {
  switch (action) {
    case 'delete':
      headers.delete(name);
      return;
    case 'skip':
      if (!headers.has(name)) headers.set(name, values);
      return;
    case 'append':
      headers.append(name, values);
      return;
    case 'override':
      headers.set(name, values);
      return;
  }
}

function applyQueryAction(
  query: URLSearchParams,
  name: string,
  action: Extract<Statement, { kind: 'set-query-parameter' }>['action'],
  values: readonly string[],
): void {
  if (action === 'skip' && query.has(name)) return;
  if (action === 'delete' || action === 'override' || action === 'skip') query.delete(name);
  if (action !== 'delete') for (const value of values) query.append(name, value);
}
