import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  policyElement,
  SECTIONS,
  type PolicyElement,
} from '../../../../scripts/local/gateway/policies/element';
import { POLICY_ELEMENTS } from '../../../../scripts/local/gateway/policies/registry';
import { ROOT } from '../support';

const POLICIES_DIR = path.join(ROOT, 'scripts', 'local', 'gateway', 'policies');

/** The rows of the table of implemented elements in docs/local-gateway.md: name and sections. */
function documentedElements(): { name: string; sections: string[]; scopes: string[] }[] {
  const text = fs.readFileSync(path.join(ROOT, 'docs', 'local-gateway.md'), 'utf8');
  const lines = text.split('\n');
  const header = lines.findIndex((line) =>
    /^\|\s*element\s*\|\s*sections\s*\|\s*scopes\s*\|/.test(line),
  );
  expect(header, 'docs/local-gateway.md has the table of implemented elements').toBeGreaterThan(0);
  const rows: { name: string; sections: string[]; scopes: string[] }[] = [];
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith('|')) break;
    const [name, sections, scopes] = line
      .split('|')
      .slice(1, 4)
      .map((cell) => cell.trim());
    const list = (cell: string, all: readonly string[]) =>
      cell === 'all' ? [...all] : cell.split(',').map((part) => part.trim());
    rows.push({
      name: name!.replace(/`/g, ''),
      sections: list(sections!, SECTIONS),
      scopes: list(scopes!, ['global', 'product', 'api']),
    });
  }
  return rows;
}

describe('the registry of policy elements', () => {
  it("equals the documentation's table of implemented elements, sections and scopes included", () => {
    expect(documentedElements()).toEqual(
      POLICY_ELEMENTS.map((element) => ({
        name: element.name,
        sections: [...element.sections],
        scopes: [...element.scopes],
      })),
    );
  });

  it('holds every element file in scripts/local/gateway/policies/', async () => {
    const defined: string[] = [];
    for (const file of fs.readdirSync(POLICIES_DIR).filter((name) => name.endsWith('.ts'))) {
      const module = (await import(path.join(POLICIES_DIR, file))) as { default?: unknown };
      const candidate = module.default as Partial<PolicyElement> | undefined;
      if (typeof candidate?.compile === 'function') {
        defined.push(candidate.name!);
        expect(POLICY_ELEMENTS, `${file} is registered`).toContain(candidate);
        expect(file).toBe(`${candidate.name}.ts`);
      }
    }
    expect(defined.sort()).toEqual(POLICY_ELEMENTS.map((element) => element.name).sort());
  });

  it('accepts no element without both a parser and an executor (checked by tsc, and at run time)', () => {
    const parseOnly = () =>
      // @ts-expect-error -- an element without an executor does not compile
      policyElement<object>({ name: 'x', sections: SECTIONS, attributes: [], parse: () => ({}) });
    const executeOnly = () =>
      // @ts-expect-error -- an element without a parser does not compile
      policyElement<object>({ name: 'y', sections: SECTIONS, attributes: [], execute: () => {} });
    expect(parseOnly).toThrow(/<x> has no execute function/);
    expect(executeOnly).toThrow(/<y> has no parse function/);
  });
});
