/**
 * What the model of azd reads from `azure.yaml` (Azure/azure-dev, cli/azd/pkg/project/project.go
 * and pkg/ext/hooks_config.go): the services, the project hooks with their posix and windows
 * variants, and a custom `workflows: up:` (pkg/workflow/config.go), whose steps are `azd:`
 * command lines.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

export type Platform = 'posix' | 'windows';

export interface HookVariant {
  readonly shell: string;
  readonly run: string;
}

export interface ProjectHook {
  readonly posix?: HookVariant;
  readonly windows?: HookVariant;
  readonly shell?: string;
  readonly run?: string;
}

export interface Service {
  readonly project: string;
  readonly language: string;
  readonly host: string;
  readonly remoteBuild?: boolean;
}

export interface Project {
  readonly root: string;
  readonly name: string;
  readonly services: Readonly<Record<string, Service>>;
  readonly hooks: Readonly<Record<string, ProjectHook>>;
  /** The `azd` command lines of `workflows: up:`, or undefined when azure.yaml has none. */
  readonly upWorkflow?: readonly string[];
  readonly requiredAzd?: string;
}

interface RawWorkflowStep {
  azd?: string | { args?: string[] };
}

export function loadProject(root: string): Project {
  const raw = parse(fs.readFileSync(path.join(root, 'azure.yaml'), 'utf8')) as {
    name: string;
    services?: Record<string, Service>;
    hooks?: Record<string, ProjectHook>;
    workflows?: { up?: { steps?: RawWorkflowStep[] } | RawWorkflowStep[] };
    requiredVersions?: { azd?: string };
  };
  const up = raw.workflows?.up;
  const steps = Array.isArray(up) ? up : up?.steps;
  return {
    root,
    name: raw.name,
    services: raw.services ?? {},
    hooks: raw.hooks ?? {},
    upWorkflow: steps?.map((step) => {
      if (typeof step.azd === 'string') return step.azd;
      if (step.azd && Array.isArray(step.azd.args)) return step.azd.args.join(' ');
      throw new Error(`azure.yaml: workflow step ${JSON.stringify(step)} is not an azd step`);
    }),
    requiredAzd: raw.requiredVersions?.azd,
  };
}

/**
 * The variant azd runs on a platform: `windows` on Windows and `posix` elsewhere, else the
 * hook's own `shell`/`run` (hooks_config.go).
 */
export function hookVariant(hook: ProjectHook, platform: Platform): HookVariant | undefined {
  const variant = platform === 'windows' ? hook.windows : hook.posix;
  if (variant) return variant;
  return hook.run !== undefined ? { shell: hook.shell ?? 'sh', run: hook.run } : undefined;
}
