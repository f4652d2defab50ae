import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, codeBlocks } from './markdown';

const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');

describe('README.md', () => {
  it('stays short: at most 15 KB, depth goes to docs/', () => {
    expect(Buffer.byteLength(readme, 'utf8')).toBeLessThanOrEqual(15 * 1024);
  });

  it('shows a protected function first, whole as the file it names, before anything about tooling', () => {
    const first = codeBlocks(readme)[0];
    expect(first?.language).toBe('ts');
    const file = /`(functions\/[\w-]+\.ts)`, whole:/.exec(readme)?.[1];
    expect(
      file,
      'the sentence above the block names the file: `functions/<name>.ts`, whole:',
    ).toMatch(/^functions\//);
    expect(`${first?.content}\n`).toBe(fs.readFileSync(path.join(ROOT, file!), 'utf8'));
    expect(first?.content).toMatch(/\bsecureHttp\(/);
    expect(first?.content).toMatch(/: InvocationContext,\s+\w+: Caller,?\s*\)/);
    const lines = readme.split('\n');
    expect(lines.indexOf('## A protected function')).toBeGreaterThan(0);
    expect(lines.indexOf('## A protected function')).toBeLessThan(lines.indexOf('## Quick start'));
  });

  it.each([
    '## A protected function',
    '## Quick start',
    '## Deploy to Azure',
    '## Layout',
    '## Documentation',
  ])('has the section %s', (heading) => {
    expect(readme.split('\n')).toContain(heading);
  });
});
