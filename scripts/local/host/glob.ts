import fs from 'node:fs';
import path from 'node:path';

function segmentPattern(segment: string): RegExp {
  const source = segment
    .split('')
    .map((char) =>
      char === '*' ? '[^/]*' : char === '?' ? '[^/]' : char.replace(/[.+^${}()|[\]\\]/g, '\\$&'),
    )
    .join('');
  return new RegExp(`^${source}$`);
}

function entries(dir: string): fs.Dirent[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    if (
      (error as NodeJS.ErrnoException).code === 'ENOENT' ||
      (error as NodeJS.ErrnoException).code === 'ENOTDIR'
    ) {
      return [];
    }
    throw error;
  }
}

/**
 * The files under `root` that match `pattern` (a relative path with `*` and `?` within a segment
 * and `**` for any number of directories, the way package.json `main` names the function files),
 * as absolute paths in sorted order.
 */
export function matchFiles(root: string, pattern: string): string[] {
  const normalised = pattern.replace(/\\/g, '/').replace(/^\.\//, '');
  if (normalised === '' || path.isAbsolute(normalised) || normalised.split('/').includes('..')) {
    throw new TypeError(`The file pattern "${pattern}" must be a path inside the project.`);
  }
  const segments = normalised.split('/').filter((segment) => segment !== '');
  const found = new Set<string>();

  const walk = (dir: string, index: number): void => {
    const segment = segments[index];
    if (segment === undefined) return;
    const last = index === segments.length - 1;
    if (segment === '**') {
      walk(dir, index + 1);
      for (const entry of entries(dir)) {
        if (entry.isDirectory() && !entry.name.startsWith('.'))
          walk(path.join(dir, entry.name), index);
      }
      return;
    }
    const matcher = segmentPattern(segment);
    for (const entry of entries(dir)) {
      if (!matcher.test(entry.name)) continue;
      const full = path.join(dir, entry.name);
      if (last) {
        if (entry.isFile()) found.add(full);
      } else if (entry.isDirectory()) {
        walk(full, index + 1);
      }
    }
  };

  walk(path.resolve(root), 0);
  return [...found].sort();
}
