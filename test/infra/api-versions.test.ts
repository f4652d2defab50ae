/**
 * API versions the user's azd knows. `azd provision` compiles infra/ with its own Bicep CLI, not
 * the one the tests use: azd 1.21 runs Bicep 0.38.33 (Azure/azure-dev,
 * cli/azd/pkg/tools/bicep/bicep.go at azure-dev-cli_1.21.0), which embeds the Azure type index of
 * Azure.Bicep.Types.Az 0.2.803 (Azure/bicep, src/Directory.Packages.props at v0.38.33). An API
 * version that index does not know is not type-checked there and draws warning BCP081. So every
 * API version in infra/ is GA, known to the Bicep of the oldest azd that azure.yaml's
 * `requiredVersions` allows, and the newest GA version that Bicep knows: the same answer on any
 * day, where the linter's `use-recent-api-versions` depends on the date and on the CLI at hand.
 *
 * The resources and their versions are read from the compiled template, so that a child declared
 * inside its parent (which takes the parent's version) counts too. api-versions/bicep-<version>.json
 * is an extract of that index (the resource types infra/ uses), written by
 * scripts/dev/api-versions.ts from Azure/bicep-types-az; its `generatedFrom` says from which
 * commit and with which command.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  collectApiVersions,
  GA_VERSION,
  templateApiVersions,
  type ApiVersionExtract,
  type TemplateApiVersion,
} from '../../scripts/dev/api-versions';
import { useCompiledTemplate } from '../support/bicep';

const ROOT = path.resolve(__dirname, '../..');
const EXTRACT_DIR = path.join(__dirname, 'api-versions');

/** The oldest azd release azure.yaml's `requiredVersions.azd` (`>= x.y.z`) allows. */
function oldestAzd(): string {
  const yaml = parse(fs.readFileSync(path.join(ROOT, 'azure.yaml'), 'utf8')) as {
    requiredVersions?: { azd?: string };
  };
  const match = /^>=\s*(\d+\.\d+\.\d+)$/.exec(yaml.requiredVersions?.azd ?? '');
  if (!match) throw new Error(`azure.yaml: requiredVersions.azd is not ">= x.y.z"`);
  return match[1]!;
}

function extracts(): ApiVersionExtract[] {
  return fs
    .readdirSync(EXTRACT_DIR)
    .filter((name) => name.endsWith('.json'))
    .map(
      (name) =>
        JSON.parse(fs.readFileSync(path.join(EXTRACT_DIR, name), 'utf8')) as ApiVersionExtract,
    );
}

/** Each `Type@version` of the template that the extract refuses, with the reason. */
function refusals(extract: ApiVersionExtract, used: readonly TemplateApiVersion[]): string[] {
  const known = new Map(
    Object.entries(extract.resourceTypes).map(([type, versions]) => [type.toLowerCase(), versions]),
  );
  const { bicep } = extract.generatedFrom;
  const distinct = [...new Set(used.map(({ type, version }) => `${type}@${version}`))];
  return distinct.flatMap((where) => {
    const [type, version] = where.split('@') as [string, string];
    const versions = known.get(type.toLowerCase());
    if (versions === undefined) {
      return [
        `${where}: the type is not in the extract; regenerate it (its generatedFrom.command)`,
      ];
    }
    if (!GA_VERSION.test(version)) return [`${where}: not a GA version`];
    if (!versions.includes(version)) {
      return [`${where}: Bicep ${bicep} does not know it; use ${versions.at(-1)!}`];
    }
    if (version !== versions.at(-1)) {
      return [`${where}: Bicep ${bicep} knows a newer GA version, ${versions.at(-1)!}`];
    }
    return [];
  });
}

describe('API versions in infra/ (the Bicep of the oldest azd azure.yaml allows)', () => {
  const compiled = useCompiledTemplate();

  it('has one extract, of the Bicep that the oldest allowed azd runs', () => {
    const all = extracts();
    expect(all.map((e) => e.generatedFrom.azd)).toEqual([oldestAzd()]);
    const [extract] = all;
    expect(extract!.generatedFrom).toMatchObject({ azd: '1.21.0', bicep: '0.38.33' });
    expect(
      fs.existsSync(path.join(EXTRACT_DIR, `bicep-${extract!.generatedFrom.bicep}.json`)),
    ).toBe(true);
  });

  it('reads every resource of every module, children declared in their parent too', (ctx) => {
    const types = new Set(templateApiVersions(compiled(ctx).template).map((r) => r.type));
    expect(types).toContain('Microsoft.Resources/resourceGroups');
    expect(types).toContain('Microsoft.Storage/storageAccounts/blobServices');
    expect(types).toContain('Microsoft.Web/sites/config');
    expect(types).not.toContain('Microsoft.Resources/deployments');
  });

  it('uses, for each resource type, the newest GA version that Bicep knows', (ctx) => {
    const used = templateApiVersions(compiled(ctx).template);
    expect(refusals(extracts()[0]!, used)).toEqual([]);
  });

  it('refuses a version that Bicep does not know, a preview, an older one and an unknown type', () => {
    const extract = extracts()[0]!;
    const storage = extract.resourceTypes['Microsoft.Storage/storageAccounts']!;
    expect(
      refusals(extract, [
        { type: 'Microsoft.Storage/storageAccounts', version: '2026-09-01' },
        { type: 'Microsoft.Storage/storageAccounts', version: '2025-01-01-preview' },
        { type: 'microsoft.storage/storageaccounts', version: storage.at(-2)! },
        { type: 'Microsoft.Example/things', version: '2024-01-01' },
        { type: 'Microsoft.Example/things', version: '2024-01-01' },
      ]),
    ).toEqual([
      `Microsoft.Storage/storageAccounts@2026-09-01: Bicep 0.38.33 does not know it; use ${storage.at(-1)!}`,
      'Microsoft.Storage/storageAccounts@2025-01-01-preview: not a GA version',
      `microsoft.storage/storageaccounts@${storage.at(-2)!}: Bicep 0.38.33 knows a newer GA version, ${storage.at(-1)!}`,
      'Microsoft.Example/things@2024-01-01: the type is not in the extract; regenerate it (its generatedFrom.command)',
    ]);
  });
});

describe('scripts/dev/api-versions.ts reads the types of a bicep-types-az commit', () => {
  let repo: string;
  const git = (...args: string[]) => execFileSync('git', ['-C', repo, ...args], { stdio: 'pipe' });

  function types(folder: string, version: string, entries: object[]): void {
    const dir = path.join(repo, 'generated', folder, version);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'types.json'), JSON.stringify(entries));
  }

  beforeAll(() => {
    repo = fs.mkdtempSync(path.join(os.tmpdir(), 'bicep-types-'));
    git('init', '-q');
    const resource = (name: string) => ({ $type: 'ResourceType', name });
    types('storage/microsoft.storage', '2025-01-01', [
      resource('Microsoft.Storage/storageAccounts@2025-01-01'),
      resource('Microsoft.Storage/storageAccounts/blobServices@2025-01-01'),
      { $type: 'ObjectType', name: 'StorageAccountProperties' },
    ]);
    types('storage/microsoft.storage', '2025-06-01-preview', [
      resource('Microsoft.Storage/storageAccounts@2025-06-01-preview'),
    ]);
    types('storage/microsoft.storage', '2023-05-01', [
      resource('Microsoft.Storage/storageaccounts@2023-05-01'),
    ]);
    types('web/microsoft.web', '2024-11-01', [resource('Microsoft.Web/sites@2024-11-01')]);
    git('add', '.');
    git('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', 'types');
  });

  afterAll(() => {
    fs.rmSync(repo, { recursive: true, force: true });
  });

  it('keeps the GA versions of the types asked for, oldest first, ignoring case (the newest spelling wins)', () => {
    expect(collectApiVersions(repo, 'HEAD', ['microsoft.storage/storageAccounts'])).toEqual({
      'Microsoft.Storage/storageAccounts': ['2023-05-01', '2025-01-01'],
    });
  });
});
