import fs from 'node:fs';
import path from 'node:path';

/** Every `.js` file below `dir`, outside any node_modules: the sources of a package. */
export function packageSources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name === 'node_modules') return [];
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return packageSources(full);
    return entry.name.endsWith('.js') ? [full] : [];
  });
}
