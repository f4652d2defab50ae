import type { HookContext } from './context';
import { smokeTestFromEnvironment } from '../smoke-test/from-environment';

/**
 * postdeploy: runs the smoke test against what was just deployed; a failed check fails the hook
 * (and so `azd up`), with one PASS/FAIL line per check.
 */
export function postdeploy(context: HookContext): Promise<number> {
  return smokeTestFromEnvironment(context.values, {
    credential: context.credential,
    fetch: context.fetch,
    sleep: context.sleep,
    out: context.log,
  });
}
