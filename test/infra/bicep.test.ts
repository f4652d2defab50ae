import { describe, expect, it } from 'vitest';
import { useCompiledTemplate, useLint } from '../support/bicep';

const compiled = useCompiledTemplate();
const lint = useLint();

describe('infra/main.bicep with the Bicep CLI', () => {
  it('builds without errors or warnings', (ctx) => {
    const { build, template } = compiled(ctx);
    expect(build.status).toBe(0);
    expect(build.stderr).not.toMatch(/\b(Error|Warning)\b/);
    expect(template.$schema).toMatch(/subscriptionDeploymentTemplate\.json#$/);
  });

  it('lints with no diagnostics at all (compiler and linter, every level)', (ctx) => {
    const { run, results } = lint(ctx);
    const diagnostics = results.map((result) => {
      const location = result.locations?.[0]?.physicalLocation;
      const file = location?.artifactLocation?.uri?.replace(/^.*\/infra\//, 'infra/') ?? '?';
      return `${file}:${String(location?.region?.startLine ?? '?')} ${result.level} ${result.ruleId}: ${result.message.text}`;
    });
    expect(diagnostics).toEqual([]);
    expect(run.status).toBe(0);
  });
});
