/**
 * azure.yaml `metadata.template`: `<template id>@<version>`, the form azd splits on `@` into the
 * template id and version of its usage telemetry (Azure/azure-dev at ae35809f,
 * cli/azd/pkg/project/project.go, `Load`) and the template gallery asks templates to set. The id
 * is the project's name and the version package.json's, so the two cannot drift apart.
 */
import { describe, expect, it } from 'vitest';
import { parseYaml, readRepoFile } from './workflow-parser';

const azureYaml = parseYaml<{ name: string; metadata?: { template?: string } }>(
  readRepoFile('azure.yaml'),
);
const pkg = JSON.parse(readRepoFile('package.json')) as { name: string; version: string };

describe('azure.yaml metadata.template', () => {
  it('is <name>@<version>, with one @', () => {
    expect(azureYaml.metadata?.template?.split('@')).toHaveLength(2);
  });

  it("names this template (azure.yaml's and package.json's name) at package.json's version", () => {
    expect(azureYaml.name).toBe(pkg.name);
    expect(azureYaml.metadata?.template).toBe(`${pkg.name}@${pkg.version}`);
    expect(pkg.version).toMatch(/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/);
  });
});
