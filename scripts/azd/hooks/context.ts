import type { TokenCredential } from '@azure/identity';
import {
  azdCliEnvironment,
  optionalValue,
  type AzdEnvironment,
  type AzdValues,
} from '../shared/azd-env';
import { deployerCredential } from '../shared/credential';
import { createGraphClient, type GraphClient } from './graph';

/** Everything a hook touches outside its own code; tests replace each part. */
export interface HookContext {
  /** The values azd passed (the process environment when run by azd). */
  readonly values: AzdValues;
  readonly azdEnv: AzdEnvironment;
  readonly credential: TokenCredential;
  readonly fetch?: typeof fetch;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly log: (line: string) => void;
  readonly warn: (line: string) => void;
}

export function defaultHookContext(values: AzdValues = process.env): HookContext {
  return {
    values,
    azdEnv: azdCliEnvironment(),
    credential: deployerCredential(values),
    log: (line) => console.log(line),
    warn: (line) => console.warn(`WARNING: ${line}`),
  };
}

export function graphFor(context: HookContext): GraphClient {
  return createGraphClient({
    credential: context.credential,
    endpoint: optionalValue(context.values, 'GRAPH_ENDPOINT'),
    fetch: context.fetch,
    sleep: context.sleep,
  });
}

/** Stores a value with `azd env set` unless azd already holds exactly that value. */
export async function storeValue(
  context: HookContext,
  key: string,
  value: string,
): Promise<boolean> {
  if (context.values[key] === value) {
    return false;
  }
  await context.azdEnv.set(key, value);
  return true;
}
