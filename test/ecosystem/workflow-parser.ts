import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

export const ROOT = path.resolve(__dirname, '../..');

export function readRepoFile(relative: string): string {
  return fs.readFileSync(path.join(ROOT, relative), 'utf8');
}

/**
 * The errors GitHub's own workflow parser (@actions/workflow-parser, from GitHub's Actions
 * language services) reports for a workflow file: schema, expression syntax and the model
 * conversion (jobs, steps, needs, matrix). An empty list is what GitHub accepts.
 */
export async function workflowErrors(name: string, content: string): Promise<string[]> {
  const { parseWorkflow, convertWorkflowTemplate, NoOperationTraceWriter } =
    await import('@actions/workflow-parser');
  const result = parseWorkflow({ name, content }, new NoOperationTraceWriter());
  const errors = result.context.errors.getErrors().map((error) => error.message);
  if (result.value !== undefined) {
    const template = await convertWorkflowTemplate(result.context, result.value);
    for (const error of template.errors ?? []) {
      if (!errors.includes(error.Message)) errors.push(error.Message);
    }
  }
  return errors;
}

export interface Step {
  name?: string;
  uses?: string;
  run?: string;
  shell?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}

export interface Job {
  'runs-on': string;
  env?: Record<string, string>;
  strategy?: { matrix?: Record<string, unknown[]> };
  steps: Step[];
}

export interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  jobs: Record<string, Job>;
}

export function parseYaml<T>(content: string): T {
  return parse(content) as T;
}
