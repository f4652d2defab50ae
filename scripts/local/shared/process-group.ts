/** How long a child service gets to stop after SIGTERM before SIGKILL: everything is down within 2 s. */
export const STOP_GRACE_MS = 1_500;

/**
 * Sends `signal` to every process of the POSIX process group `pgid` (kill(2) with `-pgid`; signal 0
 * only checks that the group exists). Returns false when no process is left in it.
 *
 * A group's id is its leader's pid, and POSIX does not reuse a pid while a group of that id still
 * has members, so the group can be signalled after its leader has exited: what is left in it are
 * the processes the leader started.
 */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Whether this process leads its own process group (started with `detached: true`, or by a shell with job control). */
export function leadsOwnProcessGroup(): boolean {
  return signalGroup(process.pid, 0);
}
