/**
 * The post-deploy smoke checks: they call the deployed secured path from outside and check each
 * property a client can observe, one named PASS/FAIL line per check. The checks take explicit
 * inputs, so they run against any deployment, the local stack included.
 */
import { randomBytes } from 'node:crypto';
import { ensureError } from '../shared/errors';
import { checkBuiltInErrors } from './builtin-errors';
import { easyAuthAdvice, easyAuthRefusal } from './easy-auth';
import {
  answeredByFunctionCode,
  BACKEND_HEADERS,
  defaultSleep,
  forgedToken,
  joinUrl,
  redact,
  seconds,
  SUBSCRIPTION_KEY_HEADER,
  type Exchange,
} from './exchange';
import { refusingLayer } from './network-isolation';
import type { CheckResult, SmokeInputs, SmokeOptions, SmokeReport } from './results';

export { answeredByFunctionCode, BACKEND_HEADERS } from './exchange';
export { formatReport } from './results';
export type { CheckResult, SmokeInputs, SmokeOptions, SmokeReport } from './results';

class Smoke {
  private readonly fetch: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  private readonly deadline: number;
  private readonly results: CheckResult[] = [];
  private readonly findings: string[] = [];
  /** Every response API Management returned to a request that carried the real key. */
  private readonly keyedExchanges: Exchange[] = [];
  /** Responses that came from the backend through API Management (status 200). */
  private readonly backendExchanges: Exchange[] = [];
  /** The last failed keyed call was refused by App Service Authentication, not by the code. */
  private easyAuthRefused = false;

  constructor(
    private readonly inputs: SmokeInputs,
    private readonly options: SmokeOptions,
  ) {
    this.fetch = options.fetch ?? globalThis.fetch;
    this.sleep = options.sleep ?? defaultSleep;
    this.now = options.now ?? Date.now;
    this.deadline = this.now() + (options.propagationTimeoutMs ?? 600_000);
  }

  private record(name: string, ok: boolean, detail: string): void {
    this.results.push({ name, ok, detail: redact(detail, this.inputs.subscriptionKey) });
  }

  private async call(url: string, headers: Record<string, string>): Promise<Exchange> {
    try {
      const response = await this.fetch(url, {
        method: 'GET',
        headers,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.options.requestTimeoutMs ?? 30_000),
      });
      return {
        url,
        status: response.status,
        headers: response.headers,
        body: await response.text(),
      };
    } catch (error: unknown) {
      return {
        url,
        status: 0,
        headers: new Headers(),
        body: '',
        error: ensureError(error).message,
      };
    }
  }

  private describe(exchange: Exchange): string {
    if (exchange.error !== undefined) {
      return `no response (${exchange.error})`;
    }
    const body = redact(exchange.body, this.inputs.subscriptionKey);
    return `${exchange.status}${body ? ` ${body}` : ''}`;
  }

  /**
   * A keyed call's answer other than 200: what it was, naming App Service Authentication when it
   * (not the function code) refused API Management's call. Retried either way: a refusal by Easy
   * Auth that clears by itself is not documented, but is not excluded either.
   */
  private notYet(exchange: Exchange): { verdict: 'retry'; detail: string } {
    const byEasyAuth = easyAuthRefusal(exchange);
    if (byEasyAuth !== undefined) this.easyAuthRefused = true;
    return { verdict: 'retry', detail: byEasyAuth ?? this.describe(exchange) };
  }

  private gateway(operation: string): string {
    return joinUrl(this.inputs.gatewayUrl, this.inputs.apiPath, operation);
  }

  private function(operation: string): string {
    return joinUrl(this.inputs.functionUrl, 'api', operation);
  }

  /**
   * Calls through API Management with the key until `judge` accepts the answer or says retrying
   * cannot help, backing off up to the propagation deadline.
   */
  private async throughGateway(
    operation: string,
    judge: (exchange: Exchange) => { verdict: 'pass' | 'retry' | 'fail'; detail: string },
  ): Promise<{ ok: boolean; detail: string; attempts: number }> {
    let delay = this.options.initialRetryDelayMs ?? 5000;
    const maxDelay = this.options.maxRetryDelayMs ?? 30_000;
    for (let attempt = 1; ; attempt++) {
      const exchange = await this.call(this.gateway(operation), {
        'Ocp-Apim-Subscription-Key': this.inputs.subscriptionKey,
      });
      this.keyedExchanges.push(exchange);
      this.easyAuthRefused = false;
      const { verdict, detail } = judge(exchange);
      if (verdict === 'pass') {
        this.backendExchanges.push(exchange);
        return { ok: true, detail, attempts: attempt };
      }
      if (verdict === 'fail' || this.now() + delay > this.deadline) {
        const advice = easyAuthAdvice(this.inputs.expectedObjectId);
        if (this.easyAuthRefused && !this.findings.includes(advice)) this.findings.push(advice);
        return { ok: false, detail, attempts: attempt };
      }
      this.options.log?.(
        `${operation} through API Management: ${detail}; retrying in ${seconds(delay)} ` +
          '(role assignments and API Management tokens can take minutes to propagate).',
      );
      await this.sleep(delay);
      delay = Math.min(delay * 2, maxDelay);
    }
  }

  private async helloWithKey(): Promise<void> {
    const result = await this.throughGateway('hello?name=smoke', (exchange) => {
      if (exchange.status !== 200) return this.notYet(exchange);
      try {
        const body = JSON.parse(exchange.body) as { message?: unknown };
        if (typeof body.message === 'string') {
          return { verdict: 'pass', detail: `200 ${JSON.stringify(body.message)}` };
        }
      } catch {
        // falls through to the failure below
      }
      return { verdict: 'fail', detail: `200 without a JSON greeting: ${this.describe(exchange)}` };
    });
    this.record(
      'apim-hello-with-key',
      result.ok,
      `GET /hello with the key: ${result.detail} (${result.attempts} attempt${result.attempts === 1 ? '' : 's'})`,
    );
  }

  private async whoamiWithKey(): Promise<void> {
    const { expectedObjectId, role } = this.inputs;
    const result = await this.throughGateway('whoami', (exchange) => {
      if (exchange.status !== 200) return this.notYet(exchange);
      let caller: { objectId?: unknown; roles?: unknown; tokenVersion?: unknown };
      try {
        caller = JSON.parse(exchange.body) as typeof caller;
      } catch {
        return { verdict: 'fail', detail: `200 without JSON: ${this.describe(exchange)}` };
      }
      const objectId = typeof caller.objectId === 'string' ? caller.objectId : '';
      if (objectId.toLowerCase() !== expectedObjectId.toLowerCase()) {
        return {
          verdict: 'fail',
          detail: `objectId is ${objectId || '(none)'}, expected API Management's identity ${expectedObjectId}`,
        };
      }
      if (caller.tokenVersion !== '2.0') {
        return {
          verdict: 'fail',
          detail: `tokenVersion is ${JSON.stringify(caller.tokenVersion)}, expected "2.0" (requestedAccessTokenVersion 2)`,
        };
      }
      const roles = Array.isArray(caller.roles) ? caller.roles : [];
      if (!roles.includes(role)) {
        return { verdict: 'retry', detail: `roles ${JSON.stringify(roles)} lack ${role}` };
      }
      return {
        verdict: 'pass',
        detail: `200 objectId ${objectId}, roles include ${role}, tokenVersion 2.0`,
      };
    });
    this.record('apim-whoami-caller', result.ok, `GET /whoami with the key: ${result.detail}`);
    if (result.ok) {
      this.findings.push(
        'The bearer token reached the function code: it validated the token itself and answered ' +
          '/whoami with the caller, so App Service Authentication (where enabled) forwards the ' +
          'Authorization header.',
      );
    }
  }

  private async expect401(
    name: string,
    what: string,
    url: string,
    headers: Record<string, string>,
  ): Promise<Exchange> {
    const exchange = await this.call(url, headers);
    this.record(name, exchange.status === 401, `${what}: ${this.describe(exchange)}`);
    return exchange;
  }

  /** NETWORK_ISOLATION=true: a direct call must be refused by the network, with or without a token. */
  private async functionUnreachable(): Promise<void> {
    for (const [name, headers] of [
      ['function-refused-by-network', {}],
      ['function-refused-by-network-with-token', { Authorization: `Bearer ${forgedToken()}` }],
    ] as const) {
      const exchange = await this.call(this.function('hello?name=smoke'), headers);
      const verdict = refusingLayer(exchange);
      this.record(
        name,
        verdict.layer === 'network',
        `GET the Function App directly${name.endsWith('token') ? ' with a forged bearer token' : ''}: ${verdict.detail}`,
      );
    }
  }

  private async functionDirect(): Promise<void> {
    if (this.options.networkIsolation === true) return this.functionUnreachable();
    const noToken = await this.expect401(
      'function-rejects-no-token',
      'GET the Function App directly without a token',
      this.function('hello?name=smoke'),
      {},
    );
    if (noToken.status === 401) {
      this.findings.push(
        answeredByFunctionCode(noToken)
          ? 'A direct call without a token was refused by the function code, not by the platform: ' +
              'App Service Authentication did not block it, so the function code is the only ' +
              'layer in front of the Function App.'
          : 'A direct call without a token was refused before the function code ran: App Service ' +
              'Authentication blocks unauthenticated callers on this plan.',
      );
    } else if (noToken.status === 200) {
      this.findings.push(
        'A direct call without a token got 200: neither App Service Authentication nor the ' +
          'function code blocked it. The Function App is open to anyone who knows its URL.',
      );
    } else if (noToken.status !== 0) {
      this.findings.push(
        `A direct call without a token got ${noToken.status}, not 401: App Service Authentication ` +
          'did not answer as configured (Return401), so the function code is the only layer to rely on.',
      );
    }
    await this.expect401(
      'function-rejects-garbage-token',
      'GET the Function App directly with a forged bearer token',
      this.function('hello?name=smoke'),
      { Authorization: `Bearer ${forgedToken()}` },
    );
  }

  private backendHeaders(): void {
    if (this.backendExchanges.length === 0) {
      this.record(
        'apim-hides-backend-headers',
        false,
        'no backend response came through API Management to inspect',
      );
      return;
    }
    // The host name without a port: a cookie's Domain never carries one.
    const functionHost = new URL(this.inputs.functionUrl).hostname.toLowerCase();
    const leaks: string[] = [];
    for (const exchange of this.backendExchanges) {
      exchange.headers.forEach((value, name) => {
        if (BACKEND_HEADERS.includes(name.toLowerCase())) {
          leaks.push(name);
        } else if (value.toLowerCase().includes(functionHost)) {
          leaks.push(`${name} (names the Function App's host)`);
        }
      });
    }
    this.record(
      'apim-hides-backend-headers',
      leaks.length === 0,
      leaks.length === 0
        ? `none of ${BACKEND_HEADERS.join(', ')} and no mention of ${functionHost} in ${this.backendExchanges.length} response(s)`
        : `backend-revealing headers: ${[...new Set(leaks)].join(', ')}`,
    );
  }

  private keyNotEchoed(): void {
    const { subscriptionKey } = this.inputs;
    const answered = this.keyedExchanges.filter((e) => e.error === undefined);
    if (answered.length === 0) {
      this.record('apim-does-not-echo-key', false, 'no response from API Management to inspect');
      return;
    }
    const echoes: string[] = [];
    for (const exchange of answered) {
      exchange.headers.forEach((value, name) => {
        if (name.toLowerCase() === SUBSCRIPTION_KEY_HEADER) {
          echoes.push(`header ${name}`);
        } else if (value.includes(subscriptionKey)) {
          echoes.push(`the value of header ${name}`);
        }
      });
      if (exchange.body.includes(subscriptionKey)) {
        echoes.push(`the body of ${new URL(exchange.url).pathname}`);
      }
    }
    this.record(
      'apim-does-not-echo-key',
      echoes.length === 0,
      echoes.length === 0
        ? `the key appears in none of ${answered.length} response(s)`
        : `the key is echoed in ${[...new Set(echoes)].join(', ')}`,
    );
  }

  async run(): Promise<SmokeReport> {
    await this.helloWithKey();
    await this.whoamiWithKey();
    await this.expect401(
      'apim-rejects-missing-key',
      'GET /hello through API Management without a key',
      this.gateway('hello?name=smoke'),
      {},
    );
    const wrongKey = `smoke${randomBytes(16).toString('hex')}`;
    await this.expect401(
      'apim-rejects-wrong-key',
      'GET /hello through API Management with a wrong key',
      this.gateway('hello?name=smoke'),
      { 'Ocp-Apim-Subscription-Key': wrongKey },
    );
    await checkBuiltInErrors({
      call: (u, h) => this.call(u, h),
      gateway: (o) => this.gateway(o),
      note: (line) => this.findings.push(redact(line, this.inputs.subscriptionKey, 600)),
      wrongKey,
    });
    await this.functionDirect();
    this.backendHeaders();
    this.keyNotEchoed();
    return {
      ok: this.results.every((r) => r.ok),
      results: this.results,
      findings: this.findings,
    };
  }
}

/** Runs every check against one deployment. */
export function runSmokeChecks(
  inputs: SmokeInputs,
  options: SmokeOptions = {},
): Promise<SmokeReport> {
  for (const [name, value] of Object.entries(inputs)) {
    if (typeof value !== 'string' || (value === '' && name !== 'apiPath')) {
      throw new TypeError(`Smoke test input ${name} must be a non-empty string.`);
    }
  }
  return new Smoke(inputs, options).run();
}
