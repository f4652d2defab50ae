/**
 * Entry point of the azd hooks: `npm run -s hooks -- <preprovision|postprovision|postdeploy|predown>`
 * (azure.yaml). azd passes its environment values as environment variables.
 */
import { defaultHookContext, type HookContext } from './context';
import { ensureError, HookError } from '../shared/errors';
import { postdeploy } from './postdeploy-smoke-test';
import { postprovision } from './postprovision-grant-apim-role';
import { predown } from './predown-remove-app-registration';
import { checkPermissions } from './preflight-permissions';
import { checkRegion } from './preflight-region';
import { preprovision } from './preprovision-app-registration';

export const HOOKS = {
  preprovision: async (context: HookContext) => {
    // Before anything is created: a region that cannot host the app, or rights the deployment
    // is certain to lack, fail here, in seconds.
    await checkRegion(context);
    await checkPermissions(context);
    await preprovision(context);
    return 0;
  },
  postprovision: async (context: HookContext) => {
    await postprovision(context);
    return 0;
  },
  postdeploy,
  predown: async (context: HookContext) => {
    await predown(context);
    return 0;
  },
} as const satisfies Record<string, (context: HookContext) => Promise<number>>;

export type HookName = keyof typeof HOOKS;

function isHookName(name: string | undefined): name is HookName {
  return name !== undefined && Object.hasOwn(HOOKS, name);
}

/** Runs one hook and returns the process exit code; every failure is one clear line on stderr. */
export async function runHook(
  name: string | undefined,
  context: () => HookContext,
  error: (line: string) => void = (line) => console.error(line),
): Promise<number> {
  if (!isHookName(name)) {
    error(`Usage: npm run -s hooks -- <${Object.keys(HOOKS).join('|')}>`);
    return 2;
  }
  try {
    return await HOOKS[name](context());
  } catch (thrown: unknown) {
    const failure = ensureError(thrown);
    error(
      failure instanceof HookError
        ? `${name} failed: ${failure.message}`
        : `${name} failed with an unexpected error: ${failure.message}`,
    );
    return 1;
  }
}

if (require.main === module) {
  void runHook(process.argv[2], () => defaultHookContext(process.env)).then((code) => {
    process.exitCode = code;
  });
}
