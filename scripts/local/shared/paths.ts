import fs from 'node:fs';
import path from 'node:path';

/**
 * The project root: the nearest directory above `from` that holds a package.json. Works both from
 * the TypeScript sources (`scripts/...`) and from the compiled files (`dist/scripts/...`).
 */
export function findProjectRoot(from: string = __dirname): string {
  let dir = path.resolve(from);
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`No package.json found above ${from}.`);
    dir = parent;
  }
}

/** Local state that is never committed (`.local/` is in .gitignore). */
export function localStateDir(projectRoot: string = findProjectRoot()): string {
  return path.join(projectRoot, '.local');
}

/** Where the identity stand-in keeps its signing keys; `IDENTITY_KEYS_FILE` overrides it. */
export function identityKeysFile(
  env: NodeJS.ProcessEnv = process.env,
  projectRoot: string = findProjectRoot(),
): string {
  const override = env.IDENTITY_KEYS_FILE?.trim();
  return override
    ? path.resolve(override)
    : path.join(localStateDir(projectRoot), 'identity', 'keys.json');
}
