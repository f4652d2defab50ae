/**
 * .devcontainer/devcontainer.json: valid against the Dev Container JSON Schema (vendored, see
 * devcontainer-schema/README.md), and holding what docs/dev-environment.md promises: Node 22 (the
 * deployed runtime), azd, Bicep, Core Tools, the VS Code extensions of
 * .vscode/extensions.json, and `npm ci` after creation.
 */
import path from 'node:path';
import fs from 'node:fs';
import Ajv2019 from 'ajv/dist/2019';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PORTS } from '../../scripts/local/shared/environment';
import { readRepoFile } from './workflow-parser';

interface DevContainer {
  image?: string;
  features?: Record<string, Record<string, unknown>>;
  postCreateCommand?: string;
  forwardPorts?: number[];
  customizations?: { vscode?: { extensions?: string[] } };
  [other: string]: unknown;
}

const schema = JSON.parse(
  fs.readFileSync(
    path.join(__dirname, 'devcontainer-schema', 'devContainer.base.schema.json'),
    'utf8',
  ),
) as Record<string, unknown>;
const devcontainer = JSON.parse(readRepoFile('.devcontainer/devcontainer.json')) as DevContainer;

// `allowComments`, `deprecationMessage` and the like are editor annotations, not keywords; the
// only format the schema uses is `uri`, on documentation links.
const check = new Ajv2019({ strict: false, allErrors: true, validateFormats: false }).compile(
  schema,
);

function validate(document: unknown) {
  return { valid: check(document), errors: check.errors ?? [] };
}

function deployedNodeMajor(): string {
  const match = /runtime:\s*\{\s*name:\s*'node'\s*version:\s*'(\d+)'/.exec(
    readRepoFile('infra/modules/function-app.bicep'),
  );
  if (!match) throw new Error('no Node runtime version in infra/modules/function-app.bicep');
  return match[1]!;
}

describe('devcontainer.json against the Dev Container JSON Schema (draft 2019-09)', () => {
  it('is valid', () => {
    expect(validate(devcontainer)).toEqual({ valid: true, errors: [] });
  });

  it.each([
    ['a misspelt property', { ...devcontainer, postCreateComand: 'npm ci' }],
    ['a command of the wrong type', { ...devcontainer, postCreateCommand: 42 }],
    ['no image, Dockerfile nor compose file', { ...devcontainer, image: undefined }],
    ['ports of the wrong type', { ...devcontainer, forwardPorts: [true] }],
  ])('rejects %s (the check can fail)', (_what, broken) => {
    expect(validate(JSON.parse(JSON.stringify(broken))).valid).toBe(false);
  });
});

describe('devcontainer.json contents', () => {
  it('runs the deployed Node version (infra/modules/function-app.bicep), from the TypeScript image', () => {
    expect(devcontainer.image).toBe(
      `mcr.microsoft.com/devcontainers/typescript-node:1-${deployedNodeMajor()}-bookworm`,
    );
  });

  it("installs azd (azd's own feature) and the Azure CLI with Bicep", () => {
    expect(devcontainer.features).toMatchObject({
      'ghcr.io/azure/azure-dev/azd:0': {},
      'ghcr.io/devcontainers/features/azure-cli:1': { installBicep: true },
    });
  });

  it('installs pwsh, so the Windows hook wrappers are tested in the container too', () => {
    expect(devcontainer.features).toHaveProperty(['ghcr.io/devcontainers/features/powershell:1']);
  });

  it('runs npm ci once created, then installs Core Tools 4 (func) from npm at an exact version', () => {
    const [first, ...rest] = devcontainer.postCreateCommand!.split(' && ');
    expect(first).toBe('npm ci --no-audit --no-fund');
    expect(rest).toEqual([
      expect.stringMatching(
        /^npm install --global --no-audit --no-fund azure-functions-core-tools@4\.\d+\.\d+$/,
      ),
    ]);
  });

  it('forwards the ports of npm start (scripts/local/shared/environment.ts)', () => {
    expect(devcontainer.forwardPorts).toEqual(Object.values(DEFAULT_PORTS));
  });

  it('installs the extensions .vscode/extensions.json recommends, by valid id', () => {
    const recommended = (
      JSON.parse(readRepoFile('.vscode/extensions.json')) as { recommendations: string[] }
    ).recommendations;
    const extensions = devcontainer.customizations?.vscode?.extensions ?? [];
    expect(extensions).toEqual(recommended);
    for (const id of extensions) expect(id).toMatch(/^[a-z0-9][a-z0-9-]*\.[a-z0-9][a-z0-9-]*$/i);
  });
});
