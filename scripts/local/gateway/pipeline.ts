import { PolicyAnswer, PolicyFailure } from './failure';
import {
  HeaderMap,
  internalErrorResponse,
  type GatewayRequest,
  type GatewayResponse,
} from './messages';
import cors, { preflight as corsPreflight } from './policies/cors';
import type { GatewayServices, RequestState, Section, Statement } from './policies/element';
import { effectiveSection, SECTIONS, type PolicyDocument } from './policy';

/**
 * Runs the policies of one request in API Management's order: inbound, backend, outbound, and
 * on-error when any step fails (learn.microsoft.com/azure/api-management/api-management-error-handling-policies).
 * Statements come from the scopes outermost first (global, product, API), each `<base />`
 * standing for the enclosing scope's section.
 */

export interface PipelineScopes {
  readonly global: PolicyDocument;
  readonly product: PolicyDocument;
  readonly api: PolicyDocument;
}

/**
 * Which subscription the key belongs to. Product policies apply only to a product-scoped
 * subscription; the built-in all-access subscription skips them.
 */
export interface Subscription {
  readonly id: string;
  readonly scope: 'product' | 'all-apis';
}

type Sections = Readonly<Record<Section, readonly Statement[]>>;

/** The response with the headers the policies added for whatever response the request got. */
function withFinalHeaders(response: GatewayResponse, state: RequestState): GatewayResponse {
  for (const name of state.finalHeaders.names()) {
    response.headers.set(name, state.finalHeaders.get(name)!);
  }
  return response;
}

function sectionsOf(scopes: readonly PolicyDocument[]): Sections {
  return Object.fromEntries(
    SECTIONS.map((section) => [section, effectiveSection(scopes, section)]),
  ) as unknown as Sections;
}

export class Pipeline {
  private readonly productScoped: Sections;
  private readonly allApis: Sections;
  /** Built-in errors inside the API, before a subscription (and so a product) is known. */
  private readonly apiErrors: readonly Statement[];
  /** Built-in errors outside any API. */
  private readonly globalErrors: readonly Statement[];

  constructor(
    scopes: PipelineScopes,
    private readonly services: GatewayServices,
  ) {
    this.productScoped = sectionsOf([scopes.global, scopes.product, scopes.api]);
    this.allApis = sectionsOf([scopes.global, scopes.api]);
    this.apiErrors = this.allApis['on-error'];
    this.globalErrors = effectiveSection([scopes.global], 'on-error');
  }

  /** The statements a section runs for a product-scoped subscription, `<base />` expanded. */
  statements(section: Section): readonly Statement[] {
    return this.productScoped[section];
  }

  /**
   * The answer to a CORS preflight from the `cors` policies of inbound (only they run), or
   * undefined when there are none. Without a valid subscription key (a browser's preflight
   * carries none in its headers) the product is unknown, so the product's `cors` does not apply:
   * the "Subscription key in header" issue of cors-policy.md.
   */
  preflight(
    request: GatewayRequest,
    subscription: Subscription | undefined,
  ): GatewayResponse | undefined {
    const sections = subscription?.scope === 'product' ? this.productScoped : this.allApis;
    const configs = sections.inbound.flatMap((statement) => {
      const config = cors.configOf(statement);
      return config ? [config] : [];
    });
    return corsPreflight(configs, request);
  }

  async run(request: GatewayRequest, subscription: Subscription): Promise<GatewayResponse> {
    const sections = subscription.scope === 'product' ? this.productScoped : this.allApis;
    const state: RequestState = {
      request,
      subscriptionId: subscription.id,
      backendUrl: undefined,
      response: undefined,
      finalHeaders: new HeaderMap(),
    };
    return withFinalHeaders(await this.runSections(sections, state), state);
  }

  private async runSections(sections: Sections, state: RequestState): Promise<GatewayResponse> {
    try {
      await this.execute(sections, 'inbound', state);
      await this.execute(sections, 'backend', state);
      state.response ??= { status: 200, headers: new HeaderMap(), body: Buffer.alloc(0) };
      await this.execute(sections, 'outbound', state);
      return state.response;
    } catch (error: unknown) {
      if (error instanceof PolicyAnswer) return error.response;
      const failure =
        error instanceof PolicyFailure
          ? error
          : new PolicyFailure('gateway', 'InternalError', internalErrorResponse(), {
              cause: error,
            });
      return this.onError(sections['on-error'], state, failure);
    }
  }

  /**
   * A built-in error (no or an invalid subscription key, no operation in the API, a request
   * outside every API) goes through the on-error sections that apply: global and API inside the
   * API (without a valid subscription the product is unknown), global alone outside it.
   */
  builtInError(
    request: GatewayRequest,
    failure: PolicyFailure,
    where: 'api' | 'global',
  ): Promise<GatewayResponse> {
    const state: RequestState = {
      request,
      subscriptionId: '',
      backendUrl: undefined,
      response: undefined,
      finalHeaders: new HeaderMap(),
    };
    return this.onError(where === 'api' ? this.apiErrors : this.globalErrors, state, failure);
  }

  private async onError(
    statements: readonly Statement[],
    state: RequestState,
    failure: PolicyFailure,
  ): Promise<GatewayResponse> {
    state.response = failure.response;
    try {
      for (const statement of statements) {
        await statement.run({ state, section: 'on-error', services: this.services });
      }
      return { ...state.response, reason: `${failure.source} ${failure.reason}` };
    } catch (onErrorFailure: unknown) {
      if (onErrorFailure instanceof PolicyAnswer) {
        return { ...onErrorFailure.response, reason: `${failure.source} ${failure.reason}` };
      }
      const reason =
        onErrorFailure instanceof PolicyFailure ? onErrorFailure.reason : 'InternalError';
      return {
        ...internalErrorResponse(),
        reason: `${failure.source} ${failure.reason}, then on-error ${reason}`,
      };
    }
  }

  private async execute(sections: Sections, section: Section, state: RequestState): Promise<void> {
    for (const statement of sections[section]) {
      await statement.run({ state, section, services: this.services });
    }
  }
}
