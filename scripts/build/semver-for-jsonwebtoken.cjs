// What the bundle of the auth layer gives jsonwebtoken as `semver` (scripts/build/bundle.mjs).
// jsonwebtoken 9.0.3 uses semver for one thing: three `semver.satisfies(process.version, range)`
// calls when it loads, to learn what this Node supports (lib/psSupported.js `^6.12.0 || >=8.0.0`,
// lib/asymmetricKeyDetailsSupported.js `>=15.7.0`, lib/rsaPssKeyDetailsSupported.js `>=16.9.0`).
// Loading semver builds its hundred-odd regular expressions (about 7 ms of a new instance's
// start, measured in pairs), so the bundle holds this instead: `satisfies` for ranges made of
// `>=X.Y.Z` and `^X.Y.Z` (X above 0) joined by `||`, with semver's answers for the versions Node
// reports (`process.version`), including that a pre-release version satisfies none of them. Any
// other range throws, so that a jsonwebtoken which asks something else fails the build's tests
// (test/build/semver-for-jsonwebtoken.test.ts compares this with semver itself on every range
// jsonwebtoken asks).
'use strict';

const VERSION = /^v?(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;
const COMPARATOR = /^(>=|\^)(\d+)\.(\d+)\.(\d+)$/;

function compare(a, b) {
  for (let i = 0; i < 3; i += 1) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return 0;
}

function satisfies(version, range) {
  const alternatives = String(range)
    .split('||')
    .map((alternative) => {
      const match = COMPARATOR.exec(alternative.trim());
      if (!match || (match[1] === '^' && match[2] === '0')) {
        throw new TypeError(`semver stand-in: the range "${range}" is not one it answers`);
      }
      return { operator: match[1], bound: [Number(match[2]), Number(match[3]), Number(match[4])] };
    });
  const parsed = VERSION.exec(String(version).trim());
  // semver: an invalid version satisfies nothing, nor does a pre-release one unless a comparator
  // names a pre-release of the same X.Y.Z (none of these ranges does).
  if (!parsed || parsed[4]) return false;
  const own = [Number(parsed[1]), Number(parsed[2]), Number(parsed[3])];
  return alternatives.some(
    ({ operator, bound }) => compare(own, bound) >= 0 && (operator === '>=' || own[0] === bound[0]),
  );
}

module.exports = { satisfies };
