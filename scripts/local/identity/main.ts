/**
 * `npm run identity`: the local stand-in for Entra ID.
 *
 *   npm run identity [-- serve]      serve the JWKS, discovery documents and managed identity endpoint
 *   npm run identity -- mint <identity> [--version 1|2] [--audience X] [--lifetime seconds]
 *   npm run identity -- rotate       new signing key; the previous ones stay in the JWKS
 *   npm run identity -- help
 */
import {
  DEFAULT_PORTS,
  LOCAL_IDENTITIES,
  LOCAL_TENANT_ID,
  localFunctionAppSettings,
} from '../shared/environment';
import { identityKeysFile } from '../shared/paths';
import { LOOPBACK, PortInUseError, readPort } from '../shared/ports';
import { MAX_PUBLISHED_KEYS, openFileKeyStore } from './keys';
import { startIdentityServer } from './server';
import { TokenVersion, createTokenIssuer, parseTokenVersion, requireLocalIdentity } from './tokens';

const USAGE = `Usage:
  npm run identity [-- serve]
      Start the local identity stand-in on 127.0.0.1:$IDENTITY_PORT.
  npm run -s identity -- mint <identity> [--version 1|2] [--audience <aud>] [--lifetime <seconds>]
      Print an access token for a local identity (and nothing else) to stdout.
  npm run identity -- rotate
      Sign with a new key from now on; the previous keys stay in the JWKS (the ${MAX_PUBLISHED_KEYS} newest),
      as Entra ID keeps a rotated key published, so tokens already issued stay valid until
      they expire. A running stand-in picks the new key up without a restart.
  npm run identity -- help

Identities:
${LOCAL_IDENTITIES.map((identity) => `  ${identity.name.padEnd(10)} ${identity.description}`).join('\n')}

Environment:
  IDENTITY_PORT           port of the stand-in, and the issuer of minted tokens (default ${DEFAULT_PORTS.IDENTITY_PORT})
  IDENTITY_TOKEN_VERSION  1 or 2: the token version the stand-in issues (default 2)
  IDENTITY_HEADER         the X-IDENTITY-HEADER callers must send (default: random, never shown)
  IDENTITY_KEYS_FILE      the signing keys (default .local/identity/keys.json, never committed)
`;

class UsageError extends Error {}

function tokenVersionFromEnv(env: NodeJS.ProcessEnv): TokenVersion {
  const raw = env.IDENTITY_TOKEN_VERSION?.trim();
  if (raw === undefined || raw === '') return 2;
  const version = parseTokenVersion(raw);
  if (version === undefined)
    throw new UsageError(`IDENTITY_TOKEN_VERSION must be 1 or 2, got "${raw}".`);
  return version;
}

function portFromEnv(env: NodeJS.ProcessEnv, allowZero = false): number {
  try {
    return readPort(env, 'IDENTITY_PORT', DEFAULT_PORTS.IDENTITY_PORT, { allowZero });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

function mint(args: string[], env: NodeJS.ProcessEnv): void {
  let identityName: string | undefined;
  let version: TokenVersion = tokenVersionFromEnv(env);
  let audience: string | undefined;
  let lifetimeSeconds: number | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const [flag, inline] = arg.startsWith('--')
      ? (arg.split(/=(.*)/s, 2) as [string, string?])
      : [arg];
    const value = (): string => {
      const next = inline ?? args[++i];
      if (next === undefined || next === '') throw new UsageError(`${flag} needs a value.`);
      return next;
    };
    if (flag === '--version') {
      const parsed = parseTokenVersion(value());
      if (parsed === undefined) throw new UsageError('--version must be 1 or 2.');
      version = parsed;
    } else if (flag === '--audience') {
      audience = value();
    } else if (flag === '--lifetime') {
      const raw = value();
      if (!/^\d+$/.test(raw)) throw new UsageError('--lifetime must be a whole number of seconds.');
      lifetimeSeconds = Number(raw);
    } else if (flag.startsWith('-')) {
      throw new UsageError(`Unknown option ${flag}.`);
    } else if (identityName === undefined) {
      identityName = arg;
    } else {
      throw new UsageError(`Unexpected argument "${arg}".`);
    }
  }
  if (identityName === undefined) throw new UsageError('mint needs the name of a local identity.');
  let identity;
  try {
    identity = requireLocalIdentity(identityName);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const port = portFromEnv(env);
  const issuer = createTokenIssuer({
    baseUrl: `http://${LOOPBACK}:${port}`,
    keys: openFileKeyStore(identityKeysFile(env)),
    tokenVersion: version,
  });
  let token: string;
  try {
    token = issuer.issue(identity, { audience, lifetimeSeconds }).token;
  } catch (error) {
    if (error instanceof TypeError) throw new UsageError(error.message);
    throw error;
  }
  process.stdout.write(`${token}\n`);
}

/** Rotates the keys in the key file; prints the kids, which are public (never a private key). */
function rotate(args: string[], env: NodeJS.ProcessEnv): void {
  if (args.length > 0) throw new UsageError(`Unexpected argument "${args[0]}".`);
  const file = identityKeysFile(env);
  const keys = openFileKeyStore(file);
  keys.rotate();
  const [signer, ...previous] = keys.published();
  process.stdout.write(
    [
      `Rotated the signing keys in ${file}.`,
      `  signs now   ${signer!.kid}`,
      ...previous.map((key) => `  published   ${key.kid}`),
      '',
    ].join('\n'),
  );
}

async function serve(env: NodeJS.ProcessEnv): Promise<void> {
  const port = portFromEnv(env, true);
  const tokenVersion = tokenVersionFromEnv(env);
  const keysFile = identityKeysFile(env);
  const headerFromEnv = env.IDENTITY_HEADER?.trim();
  const server = await startIdentityServer({
    port,
    portVariable: 'IDENTITY_PORT',
    tokenVersion,
    keys: openFileKeyStore(keysFile),
    identityHeader: headerFromEnv ? headerFromEnv : undefined,
  });
  const settings = localFunctionAppSettings(server.url);
  const mintPrefix = [
    server.port === DEFAULT_PORTS.IDENTITY_PORT ? '' : `IDENTITY_PORT=${server.port} `,
    env.IDENTITY_KEYS_FILE?.trim() ? `IDENTITY_KEYS_FILE=${keysFile} ` : '',
    tokenVersion === 2 ? '' : `IDENTITY_TOKEN_VERSION=${tokenVersion} `,
  ].join('');
  console.log(
    [
      `Local identity stand-in (in place of Entra ID) listening on ${server.url}`,
      `  tenant         ${LOCAL_TENANT_ID}`,
      `  v2 issuer      ${server.urls.issuerV2}`,
      `  v1 issuer      ${server.urls.issuerV1}`,
      `  JWKS           ${server.urls.jwksUri}`,
      `  discovery      ${server.url}/${LOCAL_TENANT_ID}/v2.0/.well-known/openid-configuration`,
      `  tokens         v${tokenVersion} (IDENTITY_TOKEN_VERSION)`,
      `  keys           ${keysFile}`,
      '',
      'Local managed identities (IDENTITY_ENDPOINT of each):',
      ...LOCAL_IDENTITIES.map(
        (identity) =>
          `  ${identity.name.padEnd(10)} ${server.urls.managedIdentityEndpoint(identity.name)}  ${identity.description}`,
      ),
      `  X-IDENTITY-HEADER: ${headerFromEnv ? 'the IDENTITY_HEADER you set' : 'random for this run (set IDENTITY_HEADER to choose one)'}`,
      '',
      'Settings that make a function app trust this stand-in:',
      ...Object.entries(settings).map(([name, value]) => `  ${name}=${value}`),
      '',
      `Mint a token: ${mintPrefix}npm run -s identity -- mint apim`,
      'Press Ctrl-C to stop.',
    ].join('\n'),
  );
  const stop = (): void => {
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === 'serve') {
      if (rest.length > 0) throw new UsageError(`Unexpected argument "${rest[0]}".`);
      await serve(process.env);
      return -1;
    }
    if (command === 'mint') {
      mint(rest, process.env);
      return 0;
    }
    if (command === 'rotate') {
      rotate(rest, process.env);
      return 0;
    }
    if (command === 'help' || command === '--help' || command === '-h') {
      process.stdout.write(USAGE);
      return 0;
    }
    throw new UsageError(`Unknown command "${command}".`);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n\n${USAGE}`);
      return 2;
    }
    if (error instanceof PortInUseError) {
      process.stderr.write(`${error.message}\n`);
      return 1;
    }
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

void main(process.argv.slice(2)).then((code) => {
  if (code >= 0) process.exitCode = code;
});
