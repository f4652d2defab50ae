/**
 * `npm start` (after the build): the identity stand-in, the function app and the gateway (in place
 * of API Management), wired to trust each other, until Ctrl-C. The function app runs under Core
 * Tools (`func start`) when it is installed, else in the built-in host (scripts/local/host/main.ts). Each
 * service is one entry of the list below.
 */
import crypto from 'node:crypto';
import path from 'node:path';
import {
  DEFAULT_PORTS,
  LOCAL_TENANT_ID,
  identityUrls,
  localFunctionAppSettings,
} from '../shared/environment';
import { displayPath, findProjectRoot, identityKeysFile } from '../shared/paths';
import { LOOPBACK, readPort } from '../shared/ports';
import {
  ServiceDefinition,
  consoleOutput,
  inProcessService,
  nodeScriptService,
  runServices,
  spawnService,
} from './services';
import { findCoreTools, guardedCoreTools } from './core-tools';
import {
  DEFAULT_LOCAL_SUBSCRIPTION_KEY,
  STATUS_PATH,
  gatewayCurl,
  startGateway,
} from '../gateway/server';
import { openFileKeyStore } from '../identity/keys';
import { startIdentityServer } from '../identity/server';
import { TokenVersion, parseTokenVersion } from '../identity/tokens';

/** `LOCAL_FUNCTION_HOST`: `auto` (default: Core Tools when installed), `func` or `builtin`. */
type FunctionHostChoice = 'auto' | 'func' | 'builtin';

class UsageError extends Error {}

function readChoice(env: NodeJS.ProcessEnv): FunctionHostChoice {
  const raw = env.LOCAL_FUNCTION_HOST?.trim() || 'auto';
  if (raw === 'auto' || raw === 'func' || raw === 'builtin') return raw;
  throw new UsageError(`LOCAL_FUNCTION_HOST must be auto, func or builtin, got "${raw}".`);
}

function readTokenVersion(env: NodeJS.ProcessEnv): TokenVersion {
  const raw = env.IDENTITY_TOKEN_VERSION?.trim();
  if (!raw) return 2;
  const version = parseTokenVersion(raw);
  if (version === undefined)
    throw new UsageError(`IDENTITY_TOKEN_VERSION must be 1 or 2, got "${raw}".`);
  return version;
}

function readPortOrUsage(env: NodeJS.ProcessEnv, variable: keyof typeof DEFAULT_PORTS): number {
  try {
    return readPort(env, variable, DEFAULT_PORTS[variable]);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

async function main(): Promise<number> {
  const env = process.env;
  const projectRoot = findProjectRoot();
  const identityPort = readPortOrUsage(env, 'IDENTITY_PORT');
  const functionsPort = readPortOrUsage(env, 'FUNCTIONS_PORT');
  const gatewayPort = readPortOrUsage(env, 'GATEWAY_PORT');
  const subscriptionKeyFromEnv = env.LOCAL_SUBSCRIPTION_KEY?.trim();
  const subscriptionKey = subscriptionKeyFromEnv || DEFAULT_LOCAL_SUBSCRIPTION_KEY;
  const tokenVersion = readTokenVersion(env);
  const choice = readChoice(env);
  const keysFile = identityKeysFile(env, projectRoot);
  const identityHeader =
    env.IDENTITY_HEADER?.trim() || crypto.randomBytes(24).toString('base64url');

  const identityUrl = `http://${LOOPBACK}:${identityPort}`;
  const functionsUrl = `http://${LOOPBACK}:${functionsPort}`;
  const gatewayUrl = `http://${LOOPBACK}:${gatewayPort}`;
  const coreTools = choice === 'builtin' ? undefined : findCoreTools(projectRoot, env);
  if (choice === 'func' && !coreTools) {
    throw new UsageError(
      'LOCAL_FUNCTION_HOST=func, but Azure Functions Core Tools (func) is not installed.',
    );
  }
  // The function app trusts the stand-in exactly as the deployed app trusts Entra ID.
  const functionAppEnv: NodeJS.ProcessEnv = {
    ...env,
    FUNCTIONS_WORKER_RUNTIME: 'node',
    ...localFunctionAppSettings(identityUrl),
  };

  // `npm run identity -- mint` must sign with the same keys and the same issuer as this run.
  const mintEnv = [
    identityPort !== DEFAULT_PORTS.IDENTITY_PORT ? `IDENTITY_PORT=${identityPort}` : '',
    env.IDENTITY_KEYS_FILE?.trim() ? `IDENTITY_KEYS_FILE=${keysFile}` : '',
    tokenVersion !== 2 ? `IDENTITY_TOKEN_VERSION=${tokenVersion}` : '',
  ]
    .filter(Boolean)
    .map((assignment) => `${assignment} `)
    .join('');

  const functionApp = {
    name: 'functions',
    port: functionsPort,
    portVariable: 'FUNCTIONS_PORT',
    readyUrl: `${functionsUrl}/`,
    describe: () => [
      `  function app       ${functionsUrl}/api/  (${
        coreTools
          ? `Core Tools: ${coreTools}`
          : choice === 'builtin'
            ? 'built-in host, LOCAL_FUNCTION_HOST=builtin'
            : 'built-in host; Core Tools is not installed'
      })`,
    ],
  };
  // Printed after the gateway's call, so that the three URLs come first and then the two ways in.
  const directCall = [
    '',
    'Call the function directly, with the token API Management would send:',
    `  TOKEN=$(${mintEnv}npm run -s identity -- mint apim)`,
    `  curl -i -H "Authorization: Bearer $TOKEN" "${functionsUrl}/api/hello?name=world"`,
    `A token the app must refuse (403): ${mintEnv}npm run -s identity -- mint intruder`,
  ];

  const services: ServiceDefinition[] = [
    {
      name: 'identity',
      port: identityPort,
      portVariable: 'IDENTITY_PORT',
      readyUrl: `${identityUrl}/${LOCAL_TENANT_ID}/discovery/v2.0/keys`,
      start: async () => {
        const server = await startIdentityServer({
          port: identityPort,
          portVariable: 'IDENTITY_PORT',
          tokenVersion,
          identityHeader,
          keys: openFileKeyStore(keysFile),
          log: (line) => consoleOutput.out(`[identity] ${line}`),
        });
        return inProcessService('identity', () => server.close());
      },
      describe: () => [
        `  identity stand-in  ${identityUrl}  (in place of Entra ID; v${tokenVersion} tokens; keys in ${displayPath(keysFile, projectRoot)})`,
      ],
    },
    coreTools
      ? {
          ...functionApp,
          readyTimeoutMs: 120_000,
          start: () =>
            Promise.resolve(
              spawnService({
                name: 'functions',
                ...guardedCoreTools(projectRoot, coreTools, functionsPort),
                cwd: projectRoot,
                env: functionAppEnv,
                pidNote:
                  'orphan-guard around func start: it ends when func does, and stops func and its worker if npm start is killed',
              }),
            ),
        }
      : nodeScriptService({
          ...functionApp,
          projectRoot,
          script: 'local/host/main',
          // So that the host gives back the memory a burst of requests took once it is idle again:
          // a young generation capped at 4 MiB per semi-space (V8 grows it to 16 MiB under load
          // and never shrinks it), and one collection when idle (host/idle-collection.ts).
          nodeOptions: ['--max-semi-space-size=4', '--expose-gc'],
          env: { ...functionAppEnv, PORT: String(functionsPort) },
        }),
    {
      name: 'gateway',
      port: gatewayPort,
      portVariable: 'GATEWAY_PORT',
      readyUrl: `${gatewayUrl}${STATUS_PATH}`,
      start: async () => {
        // authentication-managed-identity gets its token as on App Service: ManagedIdentityCredential
        // reads these from this process's environment (the function app's copy was taken above).
        process.env.IDENTITY_ENDPOINT = identityUrls(identityUrl).managedIdentityEndpoint('apim');
        process.env.IDENTITY_HEADER = identityHeader;
        const gateway = await startGateway({
          port: gatewayPort,
          portVariable: 'GATEWAY_PORT',
          apimDir: path.join(projectRoot, 'apim'),
          functionsBaseUrl: functionsUrl,
          subscriptionKey,
          log: (line) => consoleOutput.out(`[gateway] ${line}`),
        });
        return inProcessService('gateway', () => gateway.close());
      },
      describe: () => [
        `  gateway            ${gatewayUrl}/api/  (in place of API Management; runs apim/policies/*.xml)`,
        '',
        `Call the API through the gateway, as a client of API Management would (subscription key: ${
          subscriptionKeyFromEnv
            ? 'LOCAL_SUBSCRIPTION_KEY'
            : 'a local default; set LOCAL_SUBSCRIPTION_KEY to choose one'
        }):`,
        `  ${gatewayCurl(gatewayUrl, subscriptionKeyFromEnv ? { variable: 'LOCAL_SUBSCRIPTION_KEY' } : subscriptionKey)}`,
        ...directCall,
      ],
    },
  ];

  const code = await runServices(services);
  if (code === 0) consoleOutput.out('[start] stopped');
  return code;
}

main()
  .catch((error: unknown) => {
    console.error(`[start] ${error instanceof Error ? error.message : String(error)}`);
    return error instanceof UsageError ? 2 : 1;
  })
  .then((code) => process.exit(code))
  .catch(() => process.exit(1));
