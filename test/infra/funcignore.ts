/**
 * The files `azd deploy` puts in the Function App package: the project folder minus what
 * `.funcignore` excludes (gitignore syntax). Only the subset of the syntax this project uses is
 * understood: names with `*` and `?`, optionally ending in `/`, matched at any depth. Anything
 * else throws, so that a new kind of pattern cannot silently change what the tests check.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface IgnoreRule {
  readonly pattern: string;
  readonly directoryOnly: boolean;
  readonly regex: RegExp;
}

export function parseFuncignore(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const directoryOnly = line.endsWith('/');
    const pattern = directoryOnly ? line.slice(0, -1) : line;
    if (/[!\\[\]/]|\*\*/.test(pattern)) {
      throw new Error(`.funcignore pattern not understood by test/infra/funcignore.ts: ${rawLine}`);
    }
    const source = pattern
      .split('')
      .map((c) => (c === '*' ? '[^/]*' : c === '?' ? '[^/]' : c.replace(/[.+^${}()|]/g, '\\$&')))
      .join('');
    rules.push({ pattern: line, directoryOnly, regex: new RegExp(`^${source}$`) });
  }
  return rules;
}

/** Whether an entry (its base name) is excluded by a rule. */
export function isIgnored(
  rules: readonly IgnoreRule[],
  name: string,
  isDirectory: boolean,
): boolean {
  return rules.some((rule) => (!rule.directoryOnly || isDirectory) && rule.regex.test(name));
}

/** Relative paths (with `/`) of every file of `root` that the package would contain. */
export function packageFiles(root: string, rules: readonly IgnoreRule[]): string[] {
  const files: string[] = [];
  const walk = (dir: string, prefix: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const isDirectory = entry.isDirectory();
      if (isIgnored(rules, entry.name, isDirectory)) continue;
      const relative = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
      if (isDirectory) walk(path.join(dir, entry.name), relative);
      else files.push(relative);
    }
  };
  walk(root, '');
  return files.sort();
}
