/**
 * Ending a child that leads its own process group (spawned detached): SIGTERM
 * to the whole group, SIGKILL one second later if it is still there, and a
 * SIGKILL sweep once it exited so no grandchild outlives the run.
 */
import { signalQuietly } from '../../base/signal.ts';

/** How long a group gets between SIGTERM and SIGKILL. */
const KILL_GRACE_MS = 1000;

/** Send a signal to a process group; false when the group no longer exists. */
function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  return signalQuietly(-pgid, signal);
}

/**
 * Terminate the group led by `pgid`; `exited` settles when the leader was
 * reaped. Resolves after the leader is gone and the group was swept.
 */
export async function killGroup(pgid: number, exited: Promise<unknown>): Promise<void> {
  if (!signalGroup(pgid, 'SIGTERM')) return;
  const forceKill = setTimeout(() => signalGroup(pgid, 'SIGKILL'), KILL_GRACE_MS);
  try {
    await exited;
  } finally {
    clearTimeout(forceKill);
    signalGroup(pgid, 'SIGKILL');
  }
}
