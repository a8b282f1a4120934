/**
 * Pausing a sandbox whose processes are plain host processes: SIGSTOP every
 * one of them (parents first, rescanning until none is left running, so a
 * child forked during the sweep is caught), SIGCONT the same ones to resume.
 *
 * Why signals and not the cgroup freezer: it needs no root, no cgroup setup
 * on the create path and works the same on cgroup v1 and v2 hosts; resume is
 * one kill(2) per process. The cost is a /proc scan per sweep on pause, and
 * a process in uninterruptible sleep stops only when it leaves it.
 */
import { readProcTable, sandboxProcesses } from '../../base/proc-table.ts';
import { signalQuietly } from '../../base/signal.ts';

/** Give up on a pause when processes are still running after this long. */
const STOP_DEADLINE_MS = 2000;

const RUNNING_OR_SLEEPING = new Set(['R', 'S', 'D', 'I', 'W', 'P']);

/**
 * Stop the tree under `root` and every member of `groups`; resolves with the
 * pids stopped once a scan finds every one of them in state T (or gone).
 */
export async function stopProcesses(root: number, groups: Iterable<number>): Promise<number[]> {
  const stopped = new Set<number>();
  const deadline = Date.now() + STOP_DEADLINE_MS;
  for (;;) {
    const table = readProcTable();
    const state = new Map(table.map((entry) => [entry.pid, entry.state]));
    const running = sandboxProcesses(root, groups, table).filter((pid) => RUNNING_OR_SLEEPING.has(state.get(pid) ?? 'X'));
    if (running.length === 0) return [...stopped];
    if (Date.now() > deadline) throw new Error(`pause: processes ${running.join(', ')} still running after ${STOP_DEADLINE_MS} ms of SIGSTOP`);
    for (const pid of running) {
      if (signalQuietly(pid, 'SIGSTOP')) stopped.add(pid);
    }
    // Signal delivery is asynchronous: let the targets reach their stop before rescanning.
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

/** SIGCONT each pid; ones that exited meanwhile are skipped. */
export function continueProcesses(pids: Iterable<number>): void {
  for (const pid of pids) signalQuietly(pid, 'SIGCONT');
}
