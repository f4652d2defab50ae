/**
 * .vscode/: the tasks, launch configurations and recommended extensions hold together: every task
 * runs an npm script that exists, every launch configuration's preLaunchTask is a task, the
 * program it launches is what `npm run build` writes, and the attach port is the inspector port
 * the Core Tools task gives the Node worker (`languageWorkers__node__arguments`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRepoFile, ROOT } from './workflow-parser';

interface Task {
  label: string;
  type: string;
  script?: string;
  isBackground?: boolean;
  options?: { env?: Record<string, string> };
  problemMatcher?: unknown;
}
interface LaunchConfiguration {
  name: string;
  type: string;
  request: 'launch' | 'attach';
  program?: string;
  port?: number;
  address?: string;
  env?: Record<string, string>;
  preLaunchTask?: string;
  outFiles?: string[];
  sourceMaps?: boolean;
}

const tasks = (JSON.parse(readRepoFile('.vscode/tasks.json')) as { version: string; tasks: Task[] })
  .tasks;
const launch = JSON.parse(readRepoFile('.vscode/launch.json')) as {
  version: string;
  configurations: LaunchConfiguration[];
};
const scripts = (JSON.parse(readRepoFile('package.json')) as { scripts: Record<string, string> })
  .scripts;

function task(label: string): Task {
  const found = tasks.find((t) => t.label === label);
  if (!found) throw new Error(`no task labelled ${label}`);
  return found;
}

function configuration(request: 'launch' | 'attach'): LaunchConfiguration {
  const found = launch.configurations.filter((c) => c.request === request);
  expect(found).toHaveLength(1);
  return found[0]!;
}

/** The TypeScript source `npm run build` compiles into a dist/ path. */
function sourceOf(distPath: string): string {
  return distPath.replace('${workspaceFolder}/dist/', '').replace(/\.js$/, '.ts');
}

describe('tasks.json', () => {
  it('has the npm start, npm test and build tasks, each an npm script that exists', () => {
    for (const script of ['start', 'test', 'build']) {
      expect(tasks.some((t) => t.type === 'npm' && t.script === script)).toBe(true);
    }
    for (const t of tasks) {
      expect(t.type).toBe('npm');
      expect(scripts[t.script!], `${t.label}: npm run ${t.script}`).toBeDefined();
    }
    expect(new Set(tasks.map((t) => t.label)).size).toBe(tasks.length);
  });

  it('npm start tasks run in the background until start prints "Ready:"', () => {
    const ready = readRepoFile('scripts/local/start/services.ts');
    expect(ready).toContain("output.out('Ready:')");
    for (const t of tasks.filter((t) => t.script === 'start')) {
      expect(t.isBackground).toBe(true);
      expect(t.problemMatcher).toMatchObject({ background: { endsPattern: '^Ready:' } });
    }
  });
});

describe('launch.json', () => {
  it('attaches to the Node worker of the Functions host, on the port the task opens', () => {
    const attach = configuration('attach');
    expect(attach.type).toBe('node');
    const pre = task(attach.preLaunchTask!);
    expect(pre.script).toBe('start');
    expect(pre.options?.env).toEqual({
      LOCAL_FUNCTION_HOST: 'func',
      languageWorkers__node__arguments: `--inspect=${attach.address}:${attach.port}`,
    });
    expect(attach.address).toBe('127.0.0.1');
  });

  it('launches npm start with the built-in host under the debugger, after a build', () => {
    const start = configuration('launch');
    expect(start.type).toBe('node');
    expect(start.env).toEqual({ LOCAL_FUNCTION_HOST: 'builtin' });
    expect(task(start.preLaunchTask!).script).toBe('build');
    // The program is what `npm start` runs (through the launcher, which runs the compiled entry
    // point of its `start` row), built from a source that exists.
    expect(scripts.start).toBe('node scripts/local/shared/launch.cjs start');
    const entry = /start: \{ entry: '([^']+)'/.exec(
      readRepoFile('scripts/local/shared/launch.cjs'),
    );
    expect(start.program).toBe(`\${workspaceFolder}/dist/scripts/${entry![1]}.js`);
    expect(fs.existsSync(path.join(ROOT, sourceOf(start.program!)))).toBe(true);
  });

  it('maps breakpoints in the TypeScript sources through the source maps of the build', () => {
    const tsconfig = JSON.parse(readRepoFile('tsconfig.json')) as {
      compilerOptions: { sourceMap?: boolean; outDir?: string };
    };
    expect(tsconfig.compilerOptions).toMatchObject({ sourceMap: true, outDir: 'dist' });
    for (const c of launch.configurations) {
      expect(c.sourceMaps).toBe(true);
      expect(c.outFiles).toEqual(['${workspaceFolder}/dist/**/*.js']);
    }
  });
});

describe('extensions.json', () => {
  it('recommends Azure Functions, Bicep, ESLint, Prettier and Vitest', () => {
    const { recommendations } = JSON.parse(readRepoFile('.vscode/extensions.json')) as {
      recommendations: string[];
    };
    expect(recommendations).toEqual([
      'ms-azuretools.vscode-azurefunctions',
      'ms-azuretools.vscode-bicep',
      'dbaeumer.vscode-eslint',
      'esbenp.prettier-vscode',
      'vitest.explorer',
    ]);
  });
});
