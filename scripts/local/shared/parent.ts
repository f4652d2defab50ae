import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const SHELLS = new Set(['sh', 'dash', 'bash', 'zsh', 'ash', 'cmd', 'cmd.exe']);

/** The parent pid and command name of `pid`, from /proc on Linux or from `ps` elsewhere on POSIX. */
function describeProcess(pid: number): { ppid: number; command: string } | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // pid (comm) state ppid ...; comm may itself hold spaces and parentheses.
    const close = stat.lastIndexOf(')');
    const command = stat.slice(stat.indexOf('(') + 1, close);
    const ppid = Number(stat.slice(close + 2).split(' ')[1]);
    return Number.isInteger(ppid) ? { ppid, command } : undefined;
  } catch {
    // Not Linux: ask ps.
  }
  if (process.platform === 'win32') return undefined;
  const ps = spawnSync('ps', ['-o', 'ppid=,comm=', '-p', String(pid)], { encoding: 'utf8' });
  const match = /^\s*(\d+)\s+(.+?)\s*$/.exec(ps.stdout ?? '');
  return match ? { ppid: Number(match[1]), command: path.basename(match[2]!) } : undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Calls `onGone` once, soon after the process that started this one has ended, and returns a
 * function that stops watching. The local services use it so that none outlives what started it:
 * a supervisor killed with SIGKILL, or an npm process that dies without passing its signal on
 * (npm forwards SIGINT and SIGTERM to its script, but a SIGHUP just ends it), leaves nothing
 * serving a port.
 *
 * npm runs a script through a shell (`sh -c`), which outlives npm; so when this process runs under
 * an npm script and its parent is a shell, npm (the shell's parent) is watched as well.
 *
 * On POSIX an orphan is handed to another parent (PID 1 or a subreaper), so `process.ppid`
 * changes; on Windows it does not, so each watched process is also probed with signal 0.
 */
export function watchParent(
  onGone: () => void,
  options: { intervalMs?: number; env?: NodeJS.ProcessEnv } = {},
): () => void {
  const env = options.env ?? process.env;
  const parent = process.ppid;
  const watched = [parent];
  if (env.npm_lifecycle_event !== undefined) {
    const shell = describeProcess(parent);
    if (shell && SHELLS.has(shell.command.toLowerCase()) && shell.ppid > 1) {
      watched.push(shell.ppid);
    }
  }
  const timer = setInterval(() => {
    if (process.ppid === parent && watched.every(alive)) return;
    clearInterval(timer);
    onGone();
  }, options.intervalMs ?? 200);
  // The watch alone never keeps the process alive.
  timer.unref();
  return () => clearInterval(timer);
}
