/**
 * Writes the extract of Bicep's Azure type index that test/infra/api-versions.test.ts holds infra/
 * against: for each resource type of infra/main.bicep compiled (and each `--type`), the GA versions
 * that a given release of the NuGet package Azure.Bicep.Types.Az (the types a Bicep CLI release
 * embeds) knows.
 *
 * The package is built from Azure/bicep-types-az: its `generated/<folder>/<namespace>/<version>/
 * types.json` files list every `ResourceType` as `Type@version`, the entries `generated/index.json`
 * is made of. Run it against a clone of that repository, at the commit the package was built from
 * (docs/deployment.md, "API versions", says how to find it):
 *
 *   git clone https://github.com/Azure/bicep-types-az /tmp/bicep-types-az
 *   npm run -s build && node dist/scripts/dev/api-versions.js --repo /tmp/bicep-types-az \
 *     --commit <sha> --types-az <package version> --bicep <Bicep CLI> --azd <azd> --out <file>
 *
 * After adding a resource type to infra/, run it again (the same arguments: the extract's
 * `generatedFrom.command`) so that the extract covers the new type.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import prettier from 'prettier';
import { ensureError } from '../../functions/lib/errors';
import { resolveBicep } from './bicep';

/** A resource of the compiled template: its type and API version. */
export interface TemplateApiVersion {
  readonly type: string;
  readonly version: string;
}

/** The deployments Bicep itself writes for modules: their API version is the compiler's. */
const MODULE_DEPLOYMENT = 'microsoft.resources/deployments';

/**
 * Every resource of an ARM template as `bicep build` writes it (child resources with their full
 * type, `existing` ones too), through the templates of its nested deployments (the modules),
 * except those deployments themselves. Bicep gives a child declared inside its parent without an
 * `@version` the parent's version; the template states it.
 */
export function templateApiVersions(template: unknown): TemplateApiVersion[] {
  const found: TemplateApiVersion[] = [];
  const visit = (node: unknown): void => {
    if (typeof node !== 'object' || node === null) return;
    const resources = (node as { resources?: unknown }).resources;
    const list = Array.isArray(resources)
      ? (resources as unknown[])
      : typeof resources === 'object' && resources !== null
        ? Object.values(resources)
        : [];
    for (const resource of list) {
      const { type, apiVersion, properties } = resource as {
        type?: unknown;
        apiVersion?: unknown;
        properties?: { template?: unknown };
      };
      if (typeof type !== 'string' || typeof apiVersion !== 'string') continue;
      if (type.toLowerCase() === MODULE_DEPLOYMENT) visit(properties?.template);
      else found.push({ type, version: apiVersion });
    }
  };
  visit(template);
  return found;
}

/** `infra/main.bicep` compiled with the Bicep CLI that `npm run bicep` finds. */
function compileInfra(infra: string): unknown {
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'api-versions-'));
  try {
    const outfile = path.join(outDir, 'main.json');
    execFileSync(resolveBicep().path, [
      'build',
      path.join(infra, 'main.bicep'),
      '--outfile',
      outfile,
    ]);
    return JSON.parse(fs.readFileSync(outfile, 'utf8'));
  } finally {
    fs.rmSync(outDir, { recursive: true, force: true });
  }
}

/** A GA API version: a date and nothing after it (no `-preview`, `-beta`, `-privatepreview`). */
export const GA_VERSION = /^\d{4}-\d{2}-\d{2}$/;

export interface ApiVersionExtract {
  readonly generatedFrom: {
    /** The oldest azd that azure.yaml's `requiredVersions` allows. */
    readonly azd: string;
    /** The Bicep CLI that azd release runs, and where that is written. */
    readonly bicep: string;
    readonly bicepSource: string;
    /** The Azure.Bicep.Types.Az package that Bicep release embeds, and where that is written. */
    readonly azureBicepTypesAz: string;
    readonly azureBicepTypesAzSource: string;
    /** The commit of Azure/bicep-types-az that package was built from. */
    readonly repository: string;
    readonly commit: string;
    readonly command: string;
  };
  /** `Namespace/type[/child]` (as the types name it) to its GA API versions, oldest first. */
  readonly resourceTypes: Readonly<Record<string, readonly string[]>>;
}

interface TypeEntry {
  readonly $type: string;
  readonly name?: string;
}

function git(repo: string, args: string[]): string {
  return execFileSync('git', ['-C', repo, ...args], {
    encoding: 'utf8',
    maxBuffer: 512 * 1024 * 1024,
  });
}

/** The GA versions of each of `types`, read from the types.json files at `commit` (types.json
 * names a type the way its specification does; the lookup ignores case, as Azure does). */
export function collectApiVersions(
  repo: string,
  commit: string,
  types: readonly string[],
): Record<string, string[]> {
  const wanted = new Set(types.map((t) => t.toLowerCase()));
  const namespaces = new Set(types.map((t) => t.split('/')[0]!.toLowerCase()));
  const files = git(repo, ['ls-tree', '-r', '--name-only', commit, 'generated'])
    .split('\n')
    .filter((file) => file.endsWith('/types.json') && namespaces.has(file.split('/')[2] ?? ''));
  // Keyed by the type in lower case: an old specification may spell a type differently
  // (`virtualnetworks/subnets`), and Azure and Bicep ignore the case. The spelling kept is the
  // one of the newest version.
  const versions = new Map<string, { name: string; newest: string; set: Set<string> }>();
  for (const file of files) {
    const entries = JSON.parse(git(repo, ['show', `${commit}:${file}`])) as TypeEntry[];
    for (const entry of entries) {
      if (entry.$type !== 'ResourceType' || entry.name === undefined) continue;
      const [type, version] = entry.name.split('@');
      if (type === undefined || version === undefined || !GA_VERSION.test(version)) continue;
      if (!wanted.has(type.toLowerCase())) continue;
      const known = versions.get(type.toLowerCase()) ?? { name: type, newest: '', set: new Set() };
      known.set.add(version);
      if (version > known.newest) Object.assign(known, { name: type, newest: version });
      versions.set(type.toLowerCase(), known);
    }
  }
  return Object.fromEntries(
    [...versions.values()]
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map(({ name, set }) => [name, [...set].sort()]),
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      repo: { type: 'string' },
      commit: { type: 'string' },
      'types-az': { type: 'string' },
      bicep: { type: 'string' },
      azd: { type: 'string' },
      out: { type: 'string' },
      infra: { type: 'string', default: 'infra' },
      type: { type: 'string', multiple: true, default: [] },
    },
  });
  const { repo, commit, bicep, azd, out } = values;
  const typesAz = values['types-az'];
  if (!repo || !commit || !typesAz || !bicep || !azd || !out) {
    throw new Error(
      'usage: --repo <dir> --commit <sha> --types-az <v> --bicep <v> --azd <v> --out <file> [--type <T>]…',
    );
  }
  const sha = git(repo, ['rev-parse', `${commit}^{commit}`]).trim();
  const extract: ApiVersionExtract = {
    generatedFrom: {
      azd,
      bicep,
      bicepSource: `Azure/azure-dev, cli/azd/pkg/tools/bicep/bicep.go at azure-dev-cli_${azd}`,
      azureBicepTypesAz: typesAz,
      azureBicepTypesAzSource: `Azure/bicep, src/Directory.Packages.props at v${bicep}`,
      repository: 'https://github.com/Azure/bicep-types-az',
      commit: sha,
      command: [
        'node dist/scripts/dev/api-versions.js --repo <clone of the repository>',
        `--commit ${sha} --types-az ${typesAz} --bicep ${bicep} --azd ${azd} --out ${out}`,
        ...values.type.map((type) => `--type ${type}`),
      ].join(' '),
    },
    resourceTypes: collectApiVersions(repo, sha, [
      ...new Set([
        ...templateApiVersions(compileInfra(values.infra)).map((d) => d.type),
        ...values.type,
      ]),
    ]),
  };
  const options = (await prettier.resolveConfig(out)) ?? {};
  fs.writeFileSync(
    out,
    await prettier.format(JSON.stringify(extract), { ...options, filepath: out }),
  );
  console.log(`${out}: ${Object.keys(extract.resourceTypes).length} resource types`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(ensureError(error).message);
    process.exitCode = 1;
  });
}
