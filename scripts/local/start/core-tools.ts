/** How npm start finds Azure Functions Core Tools and runs it. */
import fs from 'node:fs';
import path from 'node:path';

/** `func` of Azure Functions Core Tools: node_modules/.bin first, then PATH; undefined when absent. */
export function findCoreTools(
  projectRoot: string,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const names = process.platform === 'win32' ? ['func.cmd', 'func.exe', 'func'] : ['func'];
  const dirs = [
    path.join(projectRoot, 'node_modules', '.bin'),
    ...(env.PATH ?? '').split(path.delimiter).filter(Boolean),
  ];
  for (const dir of dirs) {
    for (const name of names) {
      const candidate = path.join(dir, name);
      try {
        fs.accessSync(candidate, fs.constants.X_OK);
        if (fs.statSync(candidate).isFile()) return candidate;
      } catch {
        // Not here.
      }
    }
  }
  return undefined;
}

/**
 * `func start --port <port>` under orphan-guard (scripts/local/shared/orphan-guard.ts): Core Tools
 * does not watch its parent, as the built-in host does, so the guard stops func and its language
 * worker if npm start is killed outright.
 */
export function guardedCoreTools(
  projectRoot: string,
  func: string,
  port: number,
): { command: string; args: string[] } {
  const guard = path.join(projectRoot, 'dist', 'scripts', 'local', 'shared', 'orphan-guard.js');
  return { command: process.execPath, args: [guard, func, 'start', '--port', String(port)] };
}
