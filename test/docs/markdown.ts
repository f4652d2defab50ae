/**
 * What the documentation checks read from a Markdown page: its fenced code blocks (with the
 * `<!-- commands: ... -->` marker above each shell block), its links and its anchors. A small
 * CommonMark subset, enough for this project's pages: fences of ``` or ~~~, inline links,
 * reference definitions, ATX headings and `<a id="...">`.
 */
import fs from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');

/** The pages the checks cover: README.md and every .md under docs/, as paths from the root. */
export function docPages(root: string = ROOT): string[] {
  const pages = ['README.md'];
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const relative = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(relative);
      else if (entry.name.endsWith('.md')) pages.push(relative);
    }
  };
  if (fs.existsSync(path.join(root, 'docs'))) walk('docs');
  return pages.sort((a, b) => (a === 'README.md' ? -1 : b === 'README.md' ? 1 : a < b ? -1 : 1));
}

export interface CodeBlock {
  /** The info string's first word (`sh`, `ts`, `text`), or '' when the fence has none. */
  readonly language: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly content: string;
  /** The text of the HTML comment on the nearest non-blank line above the fence, if any. */
  readonly comment: string | undefined;
}

const FENCE = /^( {0,3})(`{3,}|~{3,})\s*([^`\s]*)/;

/** The page split into fenced code blocks and the lines outside them. */
function scan(text: string): { blocks: CodeBlock[]; prose: (string | null)[] } {
  const lines = text.split(/\r?\n/);
  const blocks: CodeBlock[] = [];
  const prose: (string | null)[] = [];
  for (let i = 0; i < lines.length; i += 1) {
    const open = FENCE.exec(lines[i] ?? '');
    if (open === null) {
      prose.push(lines[i] ?? '');
      continue;
    }
    const marker = open[2] ?? '```';
    let previous = i - 1;
    while (previous >= 0 && (lines[previous] ?? '').trim() === '') previous -= 1;
    const comment = /^\s*<!--\s*([\s\S]*?)\s*-->\s*$/.exec(lines[previous] ?? '')?.[1];
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j += 1) {
      const line = lines[j] ?? '';
      if (
        line.trim().startsWith(marker[0]!.repeat(marker.length)) &&
        line.trim().replace(/[`~]/g, '') === ''
      )
        break;
      body.push(line);
    }
    blocks.push({
      language: (open[3] ?? '').toLowerCase(),
      line: i + 1,
      content: body.join('\n'),
      comment,
    });
    prose.push(null);
    for (let k = i + 1; k <= j && k < lines.length; k += 1) prose.push(null);
    i = j;
  }
  return { blocks, prose };
}

export function codeBlocks(text: string): CodeBlock[] {
  return scan(text).blocks;
}

export interface Link {
  readonly target: string;
  /** 1-based line. */
  readonly line: number;
}

/** Links outside code: inline `[text](target)`, images, and reference definitions `[x]: target`. */
export function links(text: string): Link[] {
  const found: Link[] = [];
  scan(text).prose.forEach((line, index) => {
    if (line === null) return;
    const withoutCode = line.replace(/`[^`]*`/g, '');
    for (const match of withoutCode.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      found.push({ target: match[1] ?? '', line: index + 1 });
    }
    const definition = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/.exec(withoutCode);
    if (definition !== null) found.push({ target: definition[1] ?? '', line: index + 1 });
  });
  return found;
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
export function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/<[^>]*>/g, '')
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Every anchor a link can point to: heading slugs (repeated ones get -1, -2...) and `<a id>`. */
export function anchors(text: string): Set<string> {
  const result = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of scan(text).prose) {
    if (line === null) continue;
    const heading = /^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading !== null) {
      const base = slug((heading[1] ?? '').replace(/`/g, ''));
      const count = seen.get(base) ?? 0;
      seen.set(base, count + 1);
      result.add(count === 0 ? base : `${base}-${count}`);
    }
    for (const match of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) result.add(match[1] ?? '');
  }
  return result;
}
