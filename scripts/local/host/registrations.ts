import type { HttpHandler } from '@azure/functions';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { displayPath } from '../shared/paths';
import { matchFiles } from './glob';
import { HostConfigurationError } from './settings';

/** The registration shape exported by `dist/functions/auth/register.js` `registrations()`. */
export interface Registration {
  readonly name: string;
  readonly methods: readonly string[];
  readonly route: string;
  readonly handler: HttpHandler;
}

/** Where secureHttp() keeps the registrations of the built app (functions/auth/register.ts). */
export const REGISTRATIONS_MODULE = path.join('dist', 'functions', 'auth', 'register.js');

const TEST_MODE_WARNING =
  /^WARNING: (Failed to detect the Azure Functions runtime|Skipping call to register function)/;

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function isRegistration(value: unknown): value is Registration {
  const candidate = value as Partial<Registration> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.name === 'string' &&
    typeof candidate.route === 'string' &&
    Array.isArray(candidate.methods) &&
    candidate.methods.every((method) => typeof method === 'string') &&
    typeof candidate.handler === 'function'
  );
}

/**
 * Loads the built app the way the Functions host does (every file that package.json `main`
 * matches), then reads the triggers that `secureHttp()` registered: the one source of truth for
 * the routes served.
 */
export function loadRegistrations(projectRoot: string): Registration[] {
  const packageFile = path.join(projectRoot, 'package.json');
  let main: unknown;
  try {
    main = (JSON.parse(fs.readFileSync(packageFile, 'utf8')) as { main?: unknown }).main;
  } catch (error) {
    throw new HostConfigurationError(`${packageFile} cannot be read: ${message(error)}`, {
      cause: error,
    });
  }
  if (typeof main !== 'string' || main.trim() === '') {
    throw new HostConfigurationError(
      `${packageFile} has no "main" naming the compiled function files (for example "dist/functions/*.js").`,
    );
  }
  let files: string[];
  try {
    files = matchFiles(projectRoot, main);
  } catch (error) {
    throw new HostConfigurationError(`${packageFile}: ${message(error)}`, { cause: error });
  }
  if (files.length === 0) {
    throw new HostConfigurationError(
      `No files match package.json "main" (${main}) in ${projectRoot}. Run \`npm run build\` first.`,
    );
  }
  const registrationsFile = path.join(projectRoot, REGISTRATIONS_MODULE);
  if (!fs.existsSync(registrationsFile)) {
    throw new HostConfigurationError(
      `${registrationsFile} is missing. Run \`npm run build\` first.`,
    );
  }

  // Modules load into this process's one module cache, so the function files and the registry
  // below share the same instance of register.js.
  const load = createRequire(packageFile);
  // Outside the Functions host, @azure/functions says on every registration that it is in test
  // mode and registers nothing; that is expected here, so only those two warnings are dropped.
  const warn = console.warn;
  console.warn = (...args: unknown[]): void => {
    if (typeof args[0] === 'string' && TEST_MODE_WARNING.test(args[0])) return;
    warn(...args);
  };
  try {
    for (const file of files) {
      try {
        load(file);
      } catch (error) {
        throw new HostConfigurationError(
          `Loading ${displayPath(file, projectRoot)} failed: ${message(error)}`,
          { cause: error },
        );
      }
    }
  } finally {
    console.warn = warn;
  }

  const registry = load(registrationsFile) as { registrations?: unknown };
  if (typeof registry.registrations !== 'function') {
    throw new HostConfigurationError(`${registrationsFile} does not export registrations().`);
  }
  const registrations: unknown = (registry.registrations as () => unknown)();
  if (!Array.isArray(registrations) || !registrations.every(isRegistration)) {
    throw new HostConfigurationError(
      `${registrationsFile} registrations() did not return a list of { name, methods, route, handler }.`,
    );
  }
  if (registrations.length === 0) {
    throw new HostConfigurationError(
      `No HTTP triggers were registered: none of the files matching "${main}" called secureHttp() (functions/auth/register.ts).`,
    );
  }
  return registrations;
}
