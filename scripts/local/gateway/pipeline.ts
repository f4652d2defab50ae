import { PolicyFailure } from './failure';
import {
  HeaderMap,
  internalErrorResponse,
  type GatewayRequest,
  type GatewayResponse,
} from './messages';
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

  async run(request: GatewayRequest, subscription: Subscription): Promise<GatewayResponse> {
    const sections = subscription.scope === 'product' ? this.productScoped : this.allApis;
    const state: RequestState = {
      request,
      subscriptionId: subscription.id,
      backendUrl: undefined,
      response: undefined,
    };
    try {
      await this.execute(sections, 'inbound', state);
      await this.execute(sections, 'backend', state);
      state.response ??= { status: 200, headers: new HeaderMap(), body: Buffer.alloc(0) };
      await this.execute(sections, 'outbound', state);
      return state.response;
    } catch (error: unknown) {
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
    };
    return this.onError(where === 'api' ? this.apiErrors : this.globalErrors, state, failure);
  }

  private async onError(
    statements: readonly Statement[],
    state: RequestState,
    failure: PolicyFailure,
  ): Promise<GatewayResponse> {
    this.services.log(`error: ${failure.source} ${failure.reason}`);
    state.response = failure.response;
    try {
      for (const statement of statements) {
        await statement.run({ state, section: 'on-error', services: this.services });
      }
      return state.response;
    } catch (onErrorFailure: unknown) {
      const reason =
        onErrorFailure instanceof PolicyFailure ? onErrorFailure.reason : 'InternalError';
      this.services.log(`error: on-error section failed (${reason})`);
      return internalErrorResponse();
    }
  }

  private async execute(sections: Sections, section: Section, state: RequestState): Promise<void> {
    for (const statement of sections[section]) {
      await statement.run({ state, section, services: this.services });
    }
  }
}
