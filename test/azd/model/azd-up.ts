/**
 * A model of `azd up` and `azd down` for this project, run against the fake Graph and ARM of the
 * tests. Each behaviour comes from azd's source (Azure/azure-dev, cli/azd, main of 2026-08-21):
 *
 * - `azd up` first initialises the Bicep provider: the environment name, subscription and
 *   location are asked for (here: given), then the parameters are resolved and a parameter
 *   without a value and a default is prompted for, which under `--no-prompt` stops the run,
 *   before any hook (cmd/up.go `provisioningManager.Initialize`, bicep_provider.go `EnsureEnv`,
 *   `ensureParameters`; parameters.ts).
 * - Without `workflows: up:`, azd 1.25 and later run one graph (internal/cmd/up_graph.go):
 *   `prepackage` first, then `preprovision` -> provision -> `postprovision` beside the packaging
 *   of every service, then `predeploy` (after both: cmdhook-postpackage gates event-predeploy),
 *   deploy and `postdeploy`; a failed step fails the run (FailFast). `packageOffsetMs` sets when
 *   packaging starts relative to `preprovision` (negative: before it).
 * - With `workflows: up:`, each step is an azd command run to its end before the next
 *   (cmd/up.go, pkg/workflow/runner.go): `azd provision` (initialise, `preprovision`, provision,
 *   `postprovision`), `azd deploy` (`predeploy`, package, deploy, `postdeploy`: the command's
 *   hooks wrap its action, which packages first, cmd/deploy.go), `azd package` (`prepackage`,
 *   package, cmd/package.go).
 * - At provision time the environment is reloaded, so values a `preprovision` hook stored reach
 *   the parameters (azd >= 1.21, PRs #6063/#6064); outputs are written to the environment.
 * - Hooks run as azure.yaml states them: the `posix` variant with `sh` or the `windows` one with
 *   `pwsh`, from a temporary script file, in the project folder, with the process environment
 *   plus the azd environment's values (pkg/ext/hooks_runner.go, pkg/tools/bash, pkg/tools/powershell).
 * - Packaging a Node service: node-service.ts. `azd down`: `predown`, then the resources go.
 *
 * Not modelled: Azure itself (cloud.ts deploys the compiled template with the ARM evaluator of
 * test/infra/arm.ts and stands in for the deployed app with loopback servers), prompts (answers
 * are given; anything else that would prompt fails), `postpackage` and service hooks (this
 * project has none), provision layers, `.bicepparam`, azd's
 * deployment-state cache (every provision deploys), cancelling a running step on FailFast (the
 * other chain runs to its end), the zip upload, and the Windows variants' `pwsh` on Windows
 * itself (the model runs them with pwsh on Linux).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { readDotenv, setValues } from './azd-env';
import { packageNodeService } from './node-service';
import {
  missingParameters,
  missingParametersError,
  parametersFile,
  resolveParameters,
  type Json,
} from './parameters';
import { hookVariant, loadProject, type Platform, type Project } from './project';

/** The Azure side: what `provision`, `deploy` and `down` act on. */
export interface ModelCloud {
  /** The compiled main.bicep. */
  readonly template: Record<string, unknown>;
  /** Deploys the template with these parameters; returns the outputs azd stores. */
  provision(
    parameters: Record<string, Json>,
    env: Record<string, string>,
  ): Promise<Record<string, string>>;
  deploy(service: string, files: string[]): Promise<void>;
  down(env: Record<string, string>): Promise<void>;
}

export interface ModelOptions {
  readonly root: string;
  /** The answers to azd's three prompts. */
  readonly envName: string;
  readonly subscriptionId: string;
  readonly location: string;
  readonly platform: Platform;
  /** `pwsh` for the windows variants. */
  readonly pwsh?: string;
  readonly cloud: ModelCloud;
  /** The hooks' and npm's process environment (PATH with the model's azd first, endpoints). */
  readonly processEnv: Record<string, string>;
  readonly packageOffsetMs?: number;
  /** Longest a command may run. */
  readonly commandTimeoutMs?: number;
}

export interface StepRecord {
  readonly name: string;
  readonly start: number;
  end: number;
  ok: boolean;
  output: string;
}

export class StepFailed extends Error {
  constructor(
    readonly step: string,
    message: string,
    readonly output: string,
  ) {
    super(`${step}: ${message}`);
  }
}

export class AzdModel {
  readonly steps: StepRecord[] = [];
  readonly project: Project;
  private readonly origin = Date.now();

  constructor(private readonly options: ModelOptions) {
    this.project = loadProject(options.root);
  }

  /** `azd up --no-prompt`. */
  async up(): Promise<void> {
    this.initialize();
    const workflow = this.project.upWorkflow;
    if (workflow) {
      for (const line of workflow) await this.command(line);
      return;
    }
    await this.hook('prepackage');
    const offset = this.options.packageOffsetMs ?? 0;
    const provisioning = async () => {
      if (offset < 0) await delay(-offset);
      await this.provisionChain();
    };
    const packaging = async () => {
      if (offset > 0) await delay(offset);
      return this.packageAll();
    };
    const [provisioned, packaged] = await Promise.allSettled([provisioning(), packaging()]);
    const failures = [provisioned, packaged].filter((r) => r.status === 'rejected');
    if (failures.length > 0) throw (failures[0] as PromiseRejectedResult).reason;
    await this.hook('predeploy');
    await this.deployAll((packaged as PromiseFulfilledResult<Map<string, string[]>>).value);
  }

  /** `azd down --force --purge`. */
  async down(): Promise<void> {
    await this.hook('predown');
    await this.step('down: delete resources', () => this.options.cloud.down(this.env()));
  }

  /** The azd environment's values now. */
  env(): Record<string, string> {
    return readDotenv(this.options.root, this.options.envName);
  }

  private initialize(): void {
    const { root, envName, subscriptionId, location } = this.options;
    setValues(root, envName, {
      AZURE_ENV_NAME: envName,
      AZURE_SUBSCRIPTION_ID: subscriptionId,
      AZURE_LOCATION: location,
    });
    this.ensureParameters('initialize: parameters');
  }

  private ensureParameters(step: string): Record<string, Json> {
    const resolved = resolveParameters(
      parametersFile(this.options.root),
      this.env(),
      this.options.processEnv,
    );
    const missing = missingParameters(this.options.cloud.template, resolved);
    const record: StepRecord = {
      name: step,
      start: this.now(),
      end: this.now(),
      ok: missing.length === 0,
      output: '',
    };
    this.steps.push(record);
    if (missing.length > 0) {
      const error = missingParametersError(missing);
      record.output = error.message;
      throw new StepFailed(step, error.message, '');
    }
    return resolved;
  }

  private async command(line: string): Promise<void> {
    const [verb] = line.split(/\s+/);
    if (verb === 'provision') {
      this.ensureParameters('provision: initialize');
      return this.provisionChain();
    }
    if (verb === 'deploy') {
      await this.hook('predeploy');
      return this.deployAll(await this.packageAll());
    }
    if (verb === 'package') {
      await this.hook('prepackage');
      await this.packageAll();
      return;
    }
    throw new Error(`The model does not know the workflow step \`azd ${line}\``);
  }

  private async provisionChain(): Promise<void> {
    await this.hook('preprovision');
    await this.step('provision', async () => {
      const parameters = this.ensureParameters('provision: parameters');
      const outputs = await this.options.cloud.provision(parameters, this.env());
      setValues(this.options.root, this.options.envName, outputs);
    });
    await this.hook('postprovision');
  }

  private async packageAll(): Promise<Map<string, string[]>> {
    const packages = new Map<string, string[]>();
    for (const [name, service] of Object.entries(this.project.services)) {
      if (service.language !== 'ts' && service.language !== 'js') {
        throw new Error(`The model packages Node services only, not ${service.language}`);
      }
      const root = path.join(this.options.root, service.project);
      const files = await this.step(`package ${name}`, () =>
        packageNodeService(root, (label, command, args) => this.exec(label, command, args, root)),
      );
      packages.set(name, files);
    }
    return packages;
  }

  private async deployAll(packages: Map<string, string[]>): Promise<void> {
    for (const [name, files] of packages) {
      await this.step(`deploy ${name}`, () => this.options.cloud.deploy(name, files));
    }
    await this.hook('postdeploy');
  }

  private async hook(name: string): Promise<void> {
    const hook = this.project.hooks[name];
    const variant = hook && hookVariant(hook, this.options.platform);
    if (!variant) return;
    fs.mkdirSync(path.join(this.options.root, '.azure'), { recursive: true });
    const dir = fs.mkdtempSync(path.join(this.options.root, '.azure', `hook-${name}-`));
    const script = path.join(dir, `${name}.${variant.shell === 'pwsh' ? 'ps1' : 'sh'}`);
    fs.writeFileSync(script, `${variant.run}\n`);
    try {
      if (variant.shell === 'pwsh') {
        if (!this.options.pwsh) throw new Error('pwsh is needed for the windows variant');
        await this.exec(`hook ${name}`, this.options.pwsh, [
          '-NoProfile',
          '-NonInteractive',
          '-File',
          script,
        ]);
      } else if (variant.shell === 'sh' || variant.shell === 'bash') {
        await this.exec(`hook ${name}`, variant.shell, [script]);
      } else {
        throw new Error(`The model runs sh, bash and pwsh hooks, not ${variant.shell}`);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  private exec(
    name: string,
    command: string,
    args: string[],
    cwd = this.options.root,
  ): Promise<void> {
    return this.step(
      name,
      (record) =>
        new Promise<void>((resolve, reject) => {
          const child = spawn(command, args, {
            cwd,
            env: { ...this.options.processEnv, ...this.env() },
            stdio: ['ignore', 'pipe', 'pipe'],
          });
          const timer = setTimeout(
            () => child.kill('SIGKILL'),
            this.options.commandTimeoutMs ?? 600_000,
          );
          child.stdout.on('data', (chunk: Buffer) => (record.output += chunk.toString()));
          child.stderr.on('data', (chunk: Buffer) => (record.output += chunk.toString()));
          child.on('error', reject);
          child.on('close', (code, signal) => {
            clearTimeout(timer);
            if (code === 0) resolve();
            else reject(new StepFailed(name, `exit ${code ?? signal}`, record.output));
          });
        }),
    );
  }

  private async step<T>(name: string, body: (record: StepRecord) => Promise<T>): Promise<T> {
    const record: StepRecord = { name, start: this.now(), end: 0, ok: false, output: '' };
    this.steps.push(record);
    try {
      const result = await body(record);
      record.ok = true;
      return result;
    } catch (error: unknown) {
      if (error instanceof StepFailed) throw error;
      const message = error instanceof Error ? error.message : String(error);
      record.output += message;
      throw new StepFailed(name, message, record.output);
    } finally {
      record.end = this.now();
    }
  }

  private now(): number {
    return Date.now() - this.origin;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
