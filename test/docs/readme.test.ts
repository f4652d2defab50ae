import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './markdown';

const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');

describe('README.md', () => {
  it('stays short: at most 15 KB, depth goes to docs/', () => {
    expect(Buffer.byteLength(readme, 'utf8')).toBeLessThanOrEqual(15 * 1024);
  });

  it.each(['## Quick start', '## Deploy to Azure', '## Layout', '## Documentation'])(
    'has the section %s',
    (heading) => {
      expect(readme.split('\n')).toContain(heading);
    },
  );
});
