/**
 * The bundle gives jsonwebtoken a stand-in for semver (scripts/build/semver-for-jsonwebtoken.cjs):
 * it must answer every range jsonwebtoken asks exactly as semver does, and jsonwebtoken must ask
 * nothing else of semver.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageSources } from './support';

const ROOT = path.resolve(__dirname, '../..');
const JSONWEBTOKEN = path.dirname(require.resolve('jsonwebtoken/package.json', { paths: [ROOT] }));
/** jsonwebtoken's own semver, as it would load it. */
const semver = createRequire(path.join(JSONWEBTOKEN, 'index.js'))('semver') as {
  satisfies: (version: string, range: string) => boolean;
};
const standIn = createRequire(__filename)(
  path.join(ROOT, 'scripts', 'build', 'semver-for-jsonwebtoken.cjs'),
) as { satisfies: (version: unknown, range: unknown) => boolean };

/** The ranges jsonwebtoken passes to semver.satisfies, and every other use of semver it makes. */
function semverUses(): { ranges: string[]; others: string[] } {
  const ranges: string[] = [];
  const others: string[] = [];
  for (const file of packageSources(JSONWEBTOKEN)) {
    const text = fs.readFileSync(file, 'utf8');
    for (const match of text.matchAll(/\bsemver\.(\w+)\(([^)]*)\)/g)) {
      const range = /^process\.version,\s*'([^']+)'$/.exec(match[2]!.trim());
      if (match[1] === 'satisfies' && range) ranges.push(range[1]!);
      else others.push(`${path.relative(JSONWEBTOKEN, file)}: ${match[0]}`);
    }
  }
  return { ranges, others };
}

/** Read once: the tests below and the table of ranges they run over. */
const USES = semverUses();

const VERSIONS = [
  ...[0, 1, 5, 6, 7, 8, 9, 14, 15, 16, 17, 18, 20, 22, 23, 24, 30, 100].flatMap((major) =>
    [0, 1, 6, 7, 8, 9, 11, 12, 13, 20].flatMap((minor) =>
      [0, 1, 5].map((patch) => `v${major}.${minor}.${patch}`),
    ),
  ),
  '15.7.0',
  'v16.9.0-nightly20210801',
  'v22.12.0-rc.1',
  'v24.0.0+build.1',
  'v22.1',
  'not a version',
  '',
];

describe('the semver stand-in the bundle gives jsonwebtoken', () => {
  it('covers every use jsonwebtoken makes of semver', () => {
    const { ranges, others } = USES;
    expect(others).toEqual([]);
    expect(ranges.sort()).toEqual(['>=15.7.0', '>=16.9.0', '^6.12.0 || >=8.0.0']);
  });

  it.each(USES.ranges)('answers "%s" as semver does, for every version', (range) => {
    const differ = VERSIONS.filter(
      (v) => standIn.satisfies(v, range) !== semver.satisfies(v, range),
    );
    expect(differ).toEqual([]);
  });

  it('answers the running Node as semver does', () => {
    for (const range of USES.ranges) {
      expect(standIn.satisfies(process.version, range)).toBe(
        semver.satisfies(process.version, range),
      );
    }
    expect(standIn.satisfies(process.version, '>=16.9.0')).toBe(true);
  });

  it.each(['~1.2.3', '>=1.2', '1.2.3 - 2.0.0', '<2.0.0', '^0.2.3', '>=1.2.3 <2.0.0', '*'])(
    'refuses the range "%s", which it does not answer',
    (range) => {
      expect(() => standIn.satisfies('v22.12.0', range)).toThrow(/not one it answers/);
    },
  );
});
