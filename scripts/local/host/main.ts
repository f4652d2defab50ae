/**
 * `npm run serve` (after `npm run build`): serves every HTTP trigger of the built app on
 * 127.0.0.1:$PORT (default 7071) without Azure Functions Core Tools.
 */
import { DEFAULT_PORTS } from '../shared/environment';
import { findProjectRoot } from '../shared/paths';
import { PortInUseError, readPort } from '../shared/ports';
import { HostConfigurationError, startFunctionHost } from './server';

async function main(): Promise<void> {
  const port = readPort(process.env, 'PORT', DEFAULT_PORTS.FUNCTIONS_PORT, { allowZero: true });
  const host = await startFunctionHost({
    projectRoot: findProjectRoot(),
    port,
    portVariable: 'PORT',
  });
  process.on('unhandledRejection', (reason) => {
    console.error(
      `[error] unhandled promise rejection in the app: ${reason instanceof Error ? reason.message : String(reason)}`,
    );
  });
  const width = Math.max(...host.routes.map((route) => route.methods.join(',').length));
  console.log(
    [
      `Built-in host (without Core Tools) listening on ${host.url}`,
      ...host.routes.map(
        (route) => `  ${route.methods.join(',').padEnd(width)}  ${route.url}  (${route.name})`,
      ),
      host.settingsFromFile.length > 0
        ? `Settings from local.settings.json (the environment wins): ${host.settingsFromFile.join(', ')}`
        : 'No settings taken from local.settings.json.',
      'Press Ctrl-C to stop.',
    ].join('\n'),
  );
  const stop = (): void => {
    void host.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  if (
    error instanceof PortInUseError ||
    error instanceof HostConfigurationError ||
    error instanceof TypeError
  ) {
    console.error(error.message);
  } else {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  }
  process.exit(1);
});
