/**
 * `npm run gateway`: the local stand-in for API Management, in front of the function app.
 *
 * It routes from apim/openapi.yaml, requires the subscription key and runs apim/policies/*.xml,
 * getting the managed identity token from the identity stand-in (`npm run identity`) with the
 * same protocol as on App Service. `npm start` runs all three together.
 */
import path from 'node:path';
import { DEFAULT_PORTS, identityUrls } from '../shared/environment';
import { findProjectRoot } from '../shared/paths';
import { LOOPBACK, readPort } from '../shared/ports';
import { ensureError } from './errors';
import { DEFAULT_LOCAL_SUBSCRIPTION_KEY, gatewayCurl, startGateway } from './server';

async function main(env: NodeJS.ProcessEnv): Promise<void> {
  const gatewayPort = readPort(env, 'GATEWAY_PORT', DEFAULT_PORTS.GATEWAY_PORT, {
    allowZero: true,
  });
  const functionsPort = readPort(env, 'FUNCTIONS_PORT', DEFAULT_PORTS.FUNCTIONS_PORT);
  const identityPort = readPort(env, 'IDENTITY_PORT', DEFAULT_PORTS.IDENTITY_PORT);

  // ManagedIdentityCredential reads these two, as on App Service (one identity per process).
  if (!env.IDENTITY_ENDPOINT?.trim()) {
    env.IDENTITY_ENDPOINT = identityUrls(
      `http://${LOOPBACK}:${identityPort}`,
    ).managedIdentityEndpoint('apim');
  }
  if (!env.IDENTITY_HEADER?.trim()) {
    throw new TypeError(
      'IDENTITY_HEADER is not set: start the identity stand-in and the gateway with the same IDENTITY_HEADER ' +
        '(any random string), or use `npm start`, which wires them together.',
    );
  }

  const fromEnv = env.LOCAL_SUBSCRIPTION_KEY?.trim();
  const subscriptionKey = fromEnv || DEFAULT_LOCAL_SUBSCRIPTION_KEY;
  const gateway = await startGateway({
    port: gatewayPort,
    portVariable: 'GATEWAY_PORT',
    apimDir: path.join(findProjectRoot(__dirname), 'apim'),
    functionsBaseUrl: `http://${LOOPBACK}:${functionsPort}`,
    subscriptionKey,
  });

  console.log(
    `[gateway] listening on ${gateway.url}, forwarding to http://${LOOPBACK}:${functionsPort}/api`,
  );
  console.log(`[gateway] managed identity endpoint: ${env.IDENTITY_ENDPOINT}`);
  console.log(
    fromEnv
      ? '[gateway] subscription key: the LOCAL_SUBSCRIPTION_KEY you set'
      : `[gateway] subscription key: ${DEFAULT_LOCAL_SUBSCRIPTION_KEY} (local default; set LOCAL_SUBSCRIPTION_KEY to change it)`,
  );
  console.log(
    '[gateway] the key is product-scoped, as in Azure: apim/policies/product.xml (rate limit, quota) applies',
  );
  console.log(
    `[gateway] try: ${gatewayCurl(gateway.url, fromEnv ? { variable: 'LOCAL_SUBSCRIPTION_KEY' } : subscriptionKey)}`,
  );

  const stop = (): void => {
    gateway.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main(process.env).catch((error: unknown) => {
  console.error(`[gateway] not started: ${ensureError(error).message}`);
  process.exitCode = 1;
});
