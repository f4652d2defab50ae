/**
 * The azd environment on disk as azd keeps it (Azure/azure-dev, cli/azd/pkg/environment):
 * `.azure/<name>/.env` with `KEY="value"` lines, `.azure/<name>/config.json` (values saved from
 * earlier prompts) and `.azure/config.json` naming the default environment. Shared by the model's
 * orchestrator and its `azd` executable (azd-cli.ts), which hooks call.
 */
import fs from 'node:fs';
import path from 'node:path';

export function envDir(root: string, name: string): string {
  return path.join(root, '.azure', name);
}

export function readDotenv(root: string, name: string): Record<string, string> {
  const file = path.join(envDir(root, name), '.env');
  if (!fs.existsSync(file)) return {};
  const values: Record<string, string> = {};
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (m) values[m[1]!] = JSON.parse(m[2]!) as string;
  }
  return values;
}

export function writeDotenv(root: string, name: string, values: Record<string, string>): void {
  fs.mkdirSync(envDir(root, name), { recursive: true });
  const file = path.join(envDir(root, name), '.env');
  const text = Object.entries(values)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => `${key}=${JSON.stringify(value)}`)
    .join('\n');
  fs.writeFileSync(`${file}.tmp`, `${text}\n`);
  fs.renameSync(`${file}.tmp`, file);
  fs.writeFileSync(
    path.join(root, '.azure', 'config.json'),
    JSON.stringify({ version: 1, defaultEnvironment: name }),
  );
}

export function setValues(root: string, name: string, values: Record<string, string>): void {
  writeDotenv(root, name, { ...readDotenv(root, name), ...values });
}
