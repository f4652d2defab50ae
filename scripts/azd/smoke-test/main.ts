/**
 * `npm run smoke-test`: the post-deploy smoke test from the command line (azd's postdeploy hook
 * runs the same checks). Values come from the current azd environment; environment variables win.
 */
import { readAzdValues } from '../shared/azd-env';
import { ensureError, HookError } from '../shared/errors';
import { smokeTestFromEnvironment } from './from-environment';

async function main(): Promise<void> {
  try {
    // Run by hand, the values come from the current azd environment; run by azd, from azd itself.
    const values = { ...(await readAzdValues()), ...process.env };
    process.exitCode = await smokeTestFromEnvironment(values);
  } catch (error: unknown) {
    const normalised = ensureError(error);
    console.error(
      normalised instanceof HookError
        ? `smoke-test: ${normalised.message}`
        : `smoke-test: unexpected error: ${normalised.message}`,
    );
    process.exitCode = 1;
  }
}

if (require.main === module) {
  void main();
}
