import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commandProblems, commandsOf, parseMarker } from './command-checks';
import { ROOT, codeBlocks, docPages } from './markdown';

describe('reading blocks and markers', () => {
  it('splits a block into commands, without comments, across && and continuation lines', () => {
    expect(
      commandsOf(
        'npm ci && npm start   # builds first\nKEY=$(az rest \\\n  --url x)\n\n# a note\nnpm test',
      ),
    ).toEqual(['npm ci', 'npm start', 'KEY=$(az rest --url x)', 'npm test']);
  });

  it('reads the marker above a block', () => {
    const [block] = codeBlocks(
      '<!-- commands: test test/a.test.ts test/b.test.ts -->\n\n```sh\nnpm run x\n```',
    );
    expect(parseMarker(block?.comment)).toEqual({
      kind: 'test',
      files: ['test/a.test.ts', 'test/b.test.ts'],
    });
    expect(parseMarker('commands: azure')).toEqual({ kind: 'azure' });
    expect(parseMarker('commands: sometimes')).toBeUndefined();
    expect(parseMarker('commands: ci and more')).toBeUndefined();
  });
});

describe('commandProblems', () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'doc-commands-'));
    fs.mkdirSync(path.join(root, '.ci'));
    fs.writeFileSync(
      path.join(root, '.ci', 'run'),
      '#!/bin/sh\nnpm ci --no-audit --no-fund\nnpm run lint\nnpm test\n',
    );
    fs.writeFileSync(
      path.join(root, 'package.json'),
      JSON.stringify({
        scripts: {
          serve: 'node dist/scripts/local/host/main.js',
          build: 'tsc -p tsconfig.build.json',
        },
      }),
    );
    fs.mkdirSync(path.join(root, 'test'));
    fs.writeFileSync(
      path.join(root, 'test', 'host.test.ts'),
      "run(script('local/host/main'));\nrun('curl -s x');\n",
    );
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  function problems(markdown: string): string[] {
    fs.writeFileSync(path.join(root, 'page.md'), markdown);
    return commandProblems(root, 'page.md');
  }

  it('accepts each kind of marker when it holds', () => {
    expect(
      problems(
        [
          '<!-- commands: ci -->',
          '```sh\nnpm ci && npm test\n```',
          '<!-- commands: azure -->',
          '```sh\nazd up\ncurl "$APIM_GATEWAY_URL/api/hello"\n```',
          '<!-- commands: test test/host.test.ts -->',
          '```sh\nnpm run build\nPORT=1 npm run serve   # terminal 2\ncurl -s x\n```',
          '<!-- commands: local -->',
          '```sh\ncurl -i http://127.0.0.1:7071/api/whoami  # 401\n```',
          '```ts\nconst notAShellBlock = 1;\n```',
          '```text\nplain\n```',
        ].join('\n'),
      ),
    ).toEqual([]);
  });

  it('counts the run steps of GitHub workflows as CI', () => {
    fs.mkdirSync(path.join(root, '.github', 'workflows'), { recursive: true });
    fs.writeFileSync(
      path.join(root, '.github', 'workflows', 'ci.yml'),
      'on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: |\n          npm ci\n          npm run bench\n',
    );
    expect(problems('<!-- commands: ci -->\n```sh\nnpm run bench\n```')).toEqual([]);
  });

  it.each([
    [
      'a shell block without a marker',
      '```sh\nnpm start\n```',
      'page.md:1: a sh block needs <!-- commands: local|ci|azure|test <file> -->',
    ],
    [
      'a block without a language',
      '```\nnpm start\n```',
      'page.md:1: the code block names no language',
    ],
    [
      'ci, for a command CI does not run',
      '<!-- commands: ci -->\n```sh\nnpm run bench\n```',
      'page.md:2: marked ci, but .ci/run does not run `npm run bench`',
    ],
    [
      'azure, without azd or az',
      '<!-- commands: azure -->\n```sh\ncurl https://example.com\n```',
      'page.md:2: marked azure, but no command runs azd or az',
    ],
    [
      'test, naming no test file',
      '<!-- commands: test test/missing.test.ts -->\n```sh\nnpm run serve\n```',
      'page.md:2: test/missing.test.ts is not a test file',
    ],
    [
      'test, for a command the test does not run',
      '<!-- commands: test test/host.test.ts -->\n```sh\nnpm run gateway\n```',
      'page.md:2: none of test/host.test.ts runs `npm run gateway`',
    ],
  ])('reports %s', (_name, markdown, problem) => {
    const found = problems(markdown);
    expect(found).toHaveLength(1);
    expect(found[0]).toContain(problem);
  });
});

describe('the documentation', () => {
  it.each(docPages())(
    '%s: every shell block is run by a test or CI, or marked as needing Azure',
    (page) => {
      expect(commandProblems(ROOT, page)).toEqual([]);
    },
  );
});
