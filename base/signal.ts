/** kill(2) for teardown code, where a process that is already gone is the goal, not an error. */

/** kill(2) (a negative pid: the process group) ignoring "no such process"; false when there was none. */
export function signalQuietly(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

/** Whether `pid` exists: a process we may not signal (EPERM) exists too. */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
