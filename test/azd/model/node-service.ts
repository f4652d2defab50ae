/**
 * How azd packages a Node service (Azure/azure-dev, cli/azd/pkg/project/framework_service_node.go
 * and pkg/tools/node/node.go, detect.go): Restore runs `npm install --no-audit --no-fund
 * --prefer-offline` unless node_modules is up to date (node_modules/.package-lock.json no older
 * than package-lock.json: `IsDependenciesUpToDate`); Build runs `npm run build --if-present`;
 * Package runs `npm run build --if-present` again. With `remoteBuild: true` the function app
 * target zips the sources through `.funcignore` (service_target_functionapp.go, project_utils.go).
 */
import fs from 'node:fs';
import path from 'node:path';
import { packageFiles, parseFuncignore } from '../../infra/funcignore';

export function isDependenciesUpToDate(root: string): boolean {
  try {
    const lock = fs.statSync(path.join(root, 'package-lock.json'));
    const marker = fs.statSync(path.join(root, 'node_modules', '.package-lock.json'));
    return marker.mtimeMs >= lock.mtimeMs;
  } catch {
    return false;
  }
}

export type Run = (label: string, command: string, args: string[]) => Promise<void>;

/** Restore, Build and Package of the service; returns the files the remote-build zip holds. */
export async function packageNodeService(root: string, run: Run): Promise<string[]> {
  if (!isDependenciesUpToDate(root)) {
    await run('package: restore', 'npm', [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
    ]);
  }
  await run('package: build', 'npm', ['run', 'build', '--if-present']);
  await run('package: package', 'npm', ['run', 'build', '--if-present']);
  const files = packageFiles(
    root,
    parseFuncignore(fs.readFileSync(path.join(root, '.funcignore'), 'utf8')),
  );
  if (files.length === 0) throw new Error('package source is empty');
  return files;
}
