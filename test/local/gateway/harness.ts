import { afterAll, beforeAll } from 'vitest';
import { parse, stringify } from 'yaml';
import {
  startGateway,
  type GatewayOptions,
  type RunningGateway,
} from '../../../scripts/local/gateway/server';
import {
  APIM_DIR,
  RecordingCredential,
  copyApim,
  removeDir,
  request,
  startEchoBackend,
  type EchoBackend,
  type Reply,
} from './support';

/**
 * One echo backend and the gateways a test file starts in front of it, closed after the file;
 * the logs of all of them, and the credential they share.
 */

export const KEY = 'test-subscription-key-0123456789';
export const MISSING =
  'Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API.';
export const INVALID =
  'Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription.';
/** The body and type the shipped api.xml on-error section sets. */
export const ON_ERROR_BODY = {
  type: 'about:blank',
  title: 'The request could not be completed.',
  code: 'gateway_error',
};
export const PROBLEM_JSON = 'application/problem+json';

export interface Harness {
  readonly echo: EchoBackend;
  readonly logs: string[];
  readonly credential: RecordingCredential;
  /** The gateway on the shipped apim/ files. */
  readonly main: RunningGateway;
  gateway(overrides?: Partial<GatewayOptions>): Promise<RunningGateway>;
  /** A copy of apim/ with `edit` applied to each file (names relative to apim/, with `/`). */
  apimCopy(edit: (file: string, text: string) => string): string;
  /** A copy of apim/ with extra operations in the OpenAPI document. */
  withOperations(paths: Record<string, unknown>): string;
  /** GET through `gateway` (default the main one) with the key. */
  call(route: string, gateway?: RunningGateway): Promise<Reply>;
}

export function useGatewayHarness(): Harness {
  const started: RunningGateway[] = [];
  const tempDirs: string[] = [];
  const state = {
    echo: undefined as EchoBackend | undefined,
    main: undefined as RunningGateway | undefined,
  };
  const harness: Harness = {
    get echo() {
      return state.echo!;
    },
    get main() {
      return state.main!;
    },
    logs: [],
    credential: new RecordingCredential(),
    async gateway(overrides = {}) {
      const running = await startGateway({
        port: 0,
        apimDir: APIM_DIR,
        functionsBaseUrl: state.echo!.url,
        subscriptionKey: KEY,
        credential: harness.credential,
        log: (line) => harness.logs.push(line),
        ...overrides,
      });
      started.push(running);
      return running;
    },
    apimCopy(edit) {
      const dir = copyApim(edit);
      tempDirs.push(dir);
      return dir;
    },
    withOperations(paths) {
      return harness.apimCopy((file, text) =>
        file === 'openapi.yaml' ? addOperations(text, paths) : text,
      );
    },
    call(route, gateway = state.main!) {
      return request(`${gateway.url}${route}`, { headers: { 'Ocp-Apim-Subscription-Key': KEY } });
    },
  };
  beforeAll(async () => {
    state.echo = await startEchoBackend();
    state.main = await harness.gateway();
  });
  afterAll(async () => {
    await Promise.all(started.map((g) => g.close()));
    await state.echo?.close();
    tempDirs.forEach(removeDir);
  });
  return harness;
}

/** An OpenAPI document (text) with `paths` added. */
export function addOperations(text: string, paths: Record<string, unknown>): string {
  const document = parse(text) as { paths: Record<string, unknown> };
  Object.assign(document.paths, paths);
  return stringify(document);
}

/** An operation the echo backend serves, for `withOperations`. */
export function operation(method: string, id: string): Record<string, unknown> {
  return { [method]: { operationId: id, responses: { '200': { description: 'x' } } } };
}

/** apim/policies/api.xml with its on-error section reduced to `<base />`: built-in answers show. */
export function withoutOnErrorBody(file: string, text: string): string {
  return file === 'policies/api.xml'
    ? text.replace(/<on-error>[\s\S]*<\/on-error>/, '<on-error>\n    <base />\n  </on-error>')
    : text;
}
