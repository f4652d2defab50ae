import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { linkProblems } from './link-checks';
import { ROOT, anchors, docPages, links, slug } from './markdown';

describe('links and anchors in a page', () => {
  it('finds inline links, images and reference definitions, not those in code', () => {
    const text = [
      'See [a](docs/a.md) and ![b](b.png "title") and [c][c].',
      '`[not](a-link.md)`',
      '```text',
      '[not](in-a-block.md)',
      '```',
      '[c]: docs/c.md#part',
    ].join('\n');
    expect(links(text)).toEqual([
      { target: 'docs/a.md', line: 1 },
      { target: 'b.png', line: 1 },
      { target: 'docs/c.md#part', line: 6 },
    ]);
  });

  it('names headings as GitHub does, repeated ones numbered, plus <a id> targets', () => {
    expect(slug('How it works, and why')).toBe('how-it-works-and-why');
    expect(slug('`AUTH_*` settings: 401 vs. 403')).toBe('auth_-settings-401-vs-403');
    const text = '# Top\n## Fix\n## Fix\n<a id="custom"></a>\n```md\n# Not a heading\n```';
    expect([...anchors(text)]).toEqual(['top', 'fix', 'fix-1', 'custom']);
  });
});

describe('linkProblems', () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'doc-links-'));
    fs.mkdirSync(path.join(root, 'docs'));
    fs.writeFileSync(path.join(root, 'docs', 'b.md'), '# B page\n## A part\n');
    fs.mkdirSync(path.join(root, 'infra'));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  function problems(text: string): string[] {
    fs.writeFileSync(path.join(root, 'docs', 'a.md'), text);
    return linkProblems(root, 'docs/a.md');
  }

  it('accepts files, folders, anchors in other pages and in the same page, and external links', () => {
    expect(
      problems(
        '# A\n[b](b.md) [part](b.md#a-part) [top](#a) [infra](../infra) [web](https://example.com/x#y)',
      ),
    ).toEqual([]);
  });

  it.each([
    [
      'a missing file',
      '[x](missing.md)',
      'docs/a.md:1: missing.md: docs/missing.md does not exist',
    ],
    [
      'a missing anchor',
      '[x](b.md#nope)',
      'docs/a.md:1: b.md#nope: docs/b.md has no heading or <a id> for #nope',
    ],
    [
      'a missing anchor in the same page',
      '# A\n[x](#nowhere)',
      'docs/a.md:2: #nowhere: docs/a.md has no heading or <a id> for #nowhere',
    ],
    [
      'a path outside the repository',
      '[x](../../etc/passwd)',
      'docs/a.md:1: ../../etc/passwd points outside the repository',
    ],
  ])('reports %s', (_name, text, problem) => {
    expect(problems(text)).toEqual([problem]);
  });
});

describe('the documentation', () => {
  const pages = docPages();

  it('is README.md and the pages under docs/', () => {
    expect(pages[0]).toBe('README.md');
    expect(pages.filter((page) => page.startsWith('docs/')).length).toBeGreaterThanOrEqual(8);
  });

  it.each(pages)('%s: every relative link and anchor resolves', (page) => {
    expect(linkProblems(ROOT, page)).toEqual([]);
  });

  it("every page under docs/ is in the README's documentation table", () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('## Documentation'));
    const listed = new Set(links(table).map((link) => link.target.split('#')[0]));
    const missing = pages.filter((page) => page.startsWith('docs/') && !listed.has(page));
    expect(
      missing,
      'add a row for each to the table under "## Documentation" in README.md',
    ).toEqual([]);
  });
});
