import type { HttpHandler } from '@azure/functions';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { displayPath } from '../shared/paths';
import { collectRegistrations } from './core-api';
import { matchFiles } from './glob';
import { HostConfigurationError } from './settings';

/** A trigger as @azure/functions registered it with the host (see core-api.ts). */
export interface Registration {
  readonly name: string;
  readonly methods: readonly string[];
  readonly route: string;
  readonly handler: HttpHandler;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Loads the built app the way the Functions host does (every file that package.json `main`
 * matches), and serves the triggers the files registered with @azure/functions: the one source of
 * truth for the routes served.
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
  // A project loaded before (another host in this process) is loaded afresh, so that its files
  // register their triggers again.
  const load = createRequire(packageFile);
  const dist = path.join(projectRoot, 'dist') + path.sep;
  for (const cached of Object.keys(load.cache)) {
    if (cached.startsWith(dist)) delete load.cache[cached];
  }
  const registrations = collectRegistrations(() => {
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
  });
  if (registrations.length === 0) {
    throw new HostConfigurationError(
      `No HTTP triggers were registered: none of the files matching "${main}" registered one (with secureHttp(), functions/auth/register.ts).`,
    );
  }
  return registrations as Registration[];
}
