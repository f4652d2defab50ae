/**
 * Every shell command in the documentation is run by a test or by CI, or is marked as needing
 * Azure. The convention: the line above each shell code block is one of
 *
 *   <!-- commands: local -->            run as written by test/docs/local-commands.test.ts,
 *                                       against `npm start`'s services (a `# 401` comment at
 *                                       the end of a curl line is the status it must get)
 *   <!-- commands: ci -->               each command is one that CI runs (.ci/run, or a
 *                                       run step of .github/workflows/*.yml)
 *   <!-- commands: test <file> ... -->  the named tests run the same commands or entry points
 *   <!-- commands: azure -->            needs an Azure subscription; not run here
 *
 * and every code block names its language (`text` for plain text), so that no command hides in a
 * block the check cannot see. Each check returns `page:line: what`; empty means the page passes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { codeBlocks, type CodeBlock } from './markdown';

export const SHELL_LANGUAGES = new Set([
  'sh',
  'bash',
  'shell',
  'console',
  'zsh',
  'powershell',
  'pwsh',
  'ps1',
  'cmd',
  'bat',
]);

export type Marker =
  | { readonly kind: 'local' | 'ci' | 'azure' }
  | { readonly kind: 'test'; readonly files: readonly string[] };

export function parseMarker(comment: string | undefined): Marker | undefined {
  const match = /^commands:\s*(\S+)(.*)$/.exec(comment ?? '');
  if (match === null) return undefined;
  const kind = match[1];
  const rest = (match[2] ?? '').trim();
  if ((kind === 'local' || kind === 'ci' || kind === 'azure') && rest === '') return { kind };
  if (kind === 'test' && rest !== '') return { kind, files: rest.split(/\s+/) };
  return undefined;
}

/** The commands of a block: one per line (continuations joined), `&&` and `;` split, comments dropped. */
export function commandsOf(content: string): string[] {
  return content
    .replace(/\s*\\\n\s*/g, ' ')
    .split('\n')
    .map((line) => line.replace(/(^|\s)#.*$/, '').trim())
    .flatMap((line) => line.split(/\s*(?:&&|;)\s*/))
    .map((command) => command.trim())
    .filter((command) => command !== '');
}

/** Commands CI runs: those of `.ci/run`, and the `run:` steps of `.github/workflows/*.yml`. */
function ciCommands(root: string): string[] {
  const scripts: string[] = [];
  const run = path.join(root, '.ci', 'run');
  if (fs.existsSync(run)) scripts.push(fs.readFileSync(run, 'utf8'));
  const workflows = path.join(root, '.github', 'workflows');
  if (fs.existsSync(workflows)) {
    for (const name of fs.readdirSync(workflows).filter((file) => /\.ya?ml$/.test(file))) {
      const workflow = parseYaml(fs.readFileSync(path.join(workflows, name), 'utf8')) as {
        jobs?: Record<string, { steps?: { run?: unknown }[] }>;
      } | null;
      for (const job of Object.values(workflow?.jobs ?? {})) {
        for (const step of job.steps ?? []) {
          if (typeof step.run === 'string') scripts.push(step.run);
        }
      }
    }
  }
  return scripts.flatMap(commandsOf);
}

function packageScripts(root: string): Record<string, string> {
  const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    scripts?: Record<string, string>;
  };
  return manifest.scripts ?? {};
}

/** `npm start`, `npm run -s identity -- mint apim` -> the script name (`start`, `identity`). */
function npmScript(command: string): string | undefined {
  const words = command.replace(/^(\w+=\S*\s+)+/, '').split(/\s+/);
  if (words[0] !== 'npm') return undefined;
  if (words[1] === 'start' || words[1] === 'test') return words[1];
  if (words[1] !== 'run') return undefined;
  return words.slice(2).find((word) => !word.startsWith('-'));
}

/** Whether `file` (a test) runs `command`: verbatim, or the entry point its npm script runs. */
function testRuns(root: string, file: string, command: string): boolean {
  const text = fs.readFileSync(path.join(root, file), 'utf8');
  if (text.includes(command)) return true;
  const name = npmScript(command);
  if (name === undefined) return false;
  const script = packageScripts(root)[name] ?? '';
  // Vitest's global setup (test/support/build.ts) compiles tsconfig.build.json as `npm run build` does.
  if (name === 'build') return /tsc -p tsconfig\.build\.json/.test(script);
  const entry = /node dist\/scripts\/([\w/-]+)\.js/.exec(script)?.[1];
  if (entry === undefined) return false;
  // script('local/host/main'), or path.join(ROOT, 'dist', 'scripts', 'local', 'gateway', 'main.js')
  const segments = `'${entry.split('/').join("', '")}.js'`;
  return text.includes(`'${entry}'`) || text.includes(`'dist', 'scripts', ${segments}`);
}

function blockProblems(root: string, page: string, block: CodeBlock): string[] {
  const where = `${page}:${block.line}`;
  if (block.language === '')
    return [`${where}: the code block names no language (use text for plain text)`];
  if (!SHELL_LANGUAGES.has(block.language)) return [];
  const marker = parseMarker(block.comment);
  if (marker === undefined) {
    return [
      `${where}: a ${block.language} block needs <!-- commands: local|ci|azure|test <file> --> on the line above`,
    ];
  }
  const commands = commandsOf(block.content);
  switch (marker.kind) {
    case 'local':
      return [];
    case 'azure':
      return commands.some((command) => /(^|[\s$(])azd?\s/.test(command))
        ? []
        : [`${where}: marked azure, but no command runs azd or az`];
    case 'ci': {
      const ci = ciCommands(root);
      return commands
        .filter((command) => !ci.some((run) => run === command || run.startsWith(`${command} `)))
        .map((command) => `${where}: marked ci, but .ci/run does not run \`${command}\``);
    }
    case 'test': {
      const missing = marker.files.filter(
        (file) => !file.endsWith('.test.ts') || !fs.existsSync(path.join(root, file)),
      );
      if (missing.length > 0) return missing.map((file) => `${where}: ${file} is not a test file`);
      const ci = ciCommands(root);
      return commands
        .filter(
          (command) =>
            !ci.includes(command) && !marker.files.some((file) => testRuns(root, file, command)),
        )
        .map((command) => `${where}: none of ${marker.files.join(', ')} runs \`${command}\``);
    }
  }
}

export function commandProblems(root: string, page: string): string[] {
  const text = fs.readFileSync(path.join(root, page), 'utf8');
  return codeBlocks(text).flatMap((block) => blockProblems(root, page, block));
}
