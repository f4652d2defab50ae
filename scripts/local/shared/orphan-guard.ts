/**
 * `node dist/scripts/local/shared/orphan-guard.js <command> [args...]`: runs the command as its
 * child, with its output passed through, and ends as it does (its exit code, or its signal raised
 * again). What it adds is for a program that does not watch its parent, as Azure Functions Core
 * Tools (`func start`, and the language worker it starts) does not: when the process that started
 * the guard ends, even by SIGKILL, the guard stops the command's whole process tree, with SIGTERM
 * and SIGKILL after STOP_GRACE_MS.
 *
 * The guard must lead its own process group (npm start's spawnService starts it detached) and the
 * command stays in that group, so a signal to the group, which is how npm start stops a service,
 * reaches the guard, the command and everything it started at once. A SIGINT, SIGTERM or SIGHUP is
 * passed on to the command (it gets a group signal twice; a program that stops on the first does
 * not mind the second), and the guard ends only once the command has.
 *
 * Windows has no process groups: there the guard can only end the command itself (child.kill), not
 * the processes the command started. A `.cmd` file (npm's `func.cmd`) runs through cmd.exe
 * (windows-spawn.ts).
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import { watchParent } from './parent';
import { ensureError } from '../../../functions/lib/errors';
import { STOP_GRACE_MS, leadsOwnProcessGroup, signalGroup } from './process-group';
import { spawnable } from './windows-spawn';

const PASSED_ON: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
/** Signals that Node.js does not end a process with when raised (SIGUSR1 starts the inspector). */
const NOT_RAISED: ReadonlySet<string> = new Set(['SIGUSR1', 'SIGPIPE']);

function fail(message: string, code: number): void {
  console.error(`[orphan-guard] ${message}`);
  process.exitCode = code;
}

function main(): void {
  const [command, ...args] = process.argv.slice(2);
  if (!command) {
    fail('usage: orphan-guard <command> [args...]', 2);
    return;
  }
  const posix = process.platform !== 'win32';
  if (posix && !leadsOwnProcessGroup()) {
    fail(
      'must lead its own process group (start it with detached: true), or stopping the command could signal processes that are not its own.',
      2,
    );
    return;
  }

  let run;
  try {
    run = spawnable(command, args);
  } catch (error) {
    fail(ensureError(error).message, 2);
    return;
  }
  const child = spawn(run.command, run.args, { stdio: 'inherit', shell: run.shell });
  let orphaned = false;

  const passOn = (signal: NodeJS.Signals): void => {
    // Once orphaned, the guard signals its own group, itself included: nothing more to pass on.
    if (!orphaned) child.kill(signal);
  };
  for (const signal of PASSED_ON) process.on(signal, passOn);

  child.once('error', (error) => {
    // Spawning failed (a failed kill also reports here, but then the child has a pid).
    if (child.pid !== undefined) return;
    const code = (error as NodeJS.ErrnoException).code;
    fail(`cannot run ${command}: ${error.message}`, code === 'ENOENT' ? 127 : 126);
    stopWatching();
  });

  child.once('exit', (code, signal) => {
    stopWatching();
    if (orphaned) {
      // The command is gone; whatever it started and left behind in the group goes now (the
      // guard too: nobody waits for it any more).
      if (posix) signalGroup(process.pid, 'SIGKILL');
      process.exit(1);
    }
    if (signal && !NOT_RAISED.has(signal)) {
      for (const name of PASSED_ON) process.off(name, passOn);
      process.kill(process.pid, signal);
    }
    // Reached when the signal was not raised, or until the raised one ends the process.
    const number = signal ? os.constants.signals[signal] : undefined;
    process.exitCode = code ?? 128 + (number ?? 0);
  });

  // No output from here on: the parent's end usually closed the pipes the guard writes to.
  const stopWatching = watchParent(() => {
    orphaned = true;
    if (posix) {
      signalGroup(process.pid, 'SIGTERM');
      setTimeout(() => signalGroup(process.pid, 'SIGKILL'), STOP_GRACE_MS);
    } else {
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    }
  });
}

main();
