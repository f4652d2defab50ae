/**
 * Every relative link of a page must resolve: the file or folder exists inside the repository,
 * and an `#anchor` exists in the page it points to (a heading or an `<a id>`). Returns the
 * problems found, as `page:line: what`; an empty list means the page passes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { anchors, links } from './markdown';

const EXTERNAL = /^[a-z][a-z0-9+.-]*:/i;

export function linkProblems(root: string, page: string): string[] {
  const text = fs.readFileSync(path.join(root, page), 'utf8');
  const problems: string[] = [];
  for (const { target, line } of links(text)) {
    if (EXTERNAL.test(target)) continue;
    const where = `${page}:${line}`;
    const hash = target.indexOf('#');
    const file = decodeURIComponent(hash === -1 ? target : target.slice(0, hash));
    const anchor = hash === -1 ? undefined : decodeURIComponent(target.slice(hash + 1));
    const resolved =
      file === '' ? path.join(root, page) : path.resolve(root, path.dirname(page), file);
    const relative = path.relative(root, resolved);
    if (relative.startsWith('..') || path.isAbsolute(relative)) {
      problems.push(`${where}: ${target} points outside the repository`);
      continue;
    }
    if (!fs.existsSync(resolved)) {
      problems.push(`${where}: ${target}: ${relative} does not exist`);
      continue;
    }
    if (anchor === undefined) continue;
    if (!resolved.endsWith('.md')) {
      problems.push(`${where}: ${target}: anchors are only checked in Markdown pages`);
      continue;
    }
    if (!anchors(fs.readFileSync(resolved, 'utf8')).has(anchor)) {
      problems.push(`${where}: ${target}: ${relative} has no heading or <a id> for #${anchor}`);
    }
  }
  return problems;
}
