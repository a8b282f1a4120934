/**
 * Host uids a sandbox runs under, one pair per live sandbox so that no two
 * sandboxes (and no sandbox and the host) share a uid: the agent's (root
 * inside the sandbox's user namespace, nobody outside it) and its commands'
 * (an ordinary user inside). Neither is the host's root, and the commands'
 * uid differs from the agent's, so a command can neither signal, ptrace nor
 * open the fds of the agent that reports its results.
 *
 * A pair is held by an exclusively created lock file naming its owner's pid,
 * so concurrent rigor processes never share one; a lock whose owner died is
 * taken over.
 */
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { processExists, signalQuietly } from '../../base/signal.ts';

/** First host uid handed out; far above the ranges Debian gives users (1000+) and /etc/subuid (100000+65536·n). */
export const HOST_ID_BASE = 1_500_000_000;
/** Pairs available at once. */
const SLOTS = 8192;
/** Inside the sandbox's user namespace: the agent is root, its commands this user. */
export const INSIDE_AGENT_ID = 0;
export const INSIDE_COMMAND_ID = 1000;
const LOCK_DIR = '/run/rigor/host-ids';

export interface HostIds {
  /** Host uid (and gid) of the agent: root inside the sandbox. */
  agent: number;
  /** Host uid (and gid) of every command the agent runs: INSIDE_COMMAND_ID inside. */
  command: number;
  /** Frees the pair; idempotent. */
  release(): void;
}

/** Create `lock` exclusively, naming this process; a lock whose owner is dead is taken over. False when a live process holds it. */
export function tryTake(lock: string): boolean {
  try {
    const fd = openSync(lock, 'wx', 0o600);
    writeSync(fd, String(process.pid));
    closeSync(fd);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  let owner = NaN;
  try {
    owner = Number(readFileSync(lock, 'utf8'));
  } catch {
    return false; // released meanwhile: try the next slot
  }
  if (Number.isInteger(owner) && owner > 0 && processExists(owner)) return false;
  try {
    unlinkSync(lock); // its owner is dead; whoever unlinks first may retake it
  } catch {
    return false;
  }
  return tryTake(lock);
}

/**
 * Remove the locks of dead owners (a SIGKILLed rigor's), each taken over first exactly as an acquirer
 * would, then released: a lock a live process holds or takes meanwhile stays. Returns how many went.
 */
export function sweepStaleHostIdLocks(lockDir = LOCK_DIR): number {
  let names: string[];
  try {
    names = readdirSync(lockDir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const lock = join(lockDir, name);
    let owner: number;
    try {
      owner = Number(readFileSync(lock, 'utf8'));
    } catch {
      continue;
    }
    if (!Number.isInteger(owner) || owner <= 0 || owner === process.pid || processExists(owner)) continue;
    if (!tryTake(lock)) continue;
    try {
      if (readFileSync(lock, 'utf8') === String(process.pid)) {
        unlinkSync(lock);
        removed += 1;
      }
    } catch {
      // released meanwhile
    }
  }
  return removed;
}

let next = Math.floor(Math.random() * SLOTS);

/** A pair of host uids no other live sandbox holds; throws when all `slots` are taken. */
export function acquireHostIds(options: { lockDir?: string; slots?: number } = {}): HostIds {
  const lockDir = options.lockDir ?? LOCK_DIR;
  const slots = options.slots ?? SLOTS;
  // the parent is shared with staged files that sandbox uids must reach (isolation/stage.ts)
  mkdirSync(dirname(lockDir), { recursive: true, mode: 0o755 });
  mkdirSync(lockDir, { recursive: true, mode: 0o700 });
  for (let tried = 0; tried < slots; tried++) {
    const slot = next % slots;
    next = (next + 1) % SLOTS;
    const lock = join(lockDir, String(slot));
    if (!tryTake(lock)) continue;
    let held = true;
    return {
      agent: HOST_ID_BASE + 2 * slot,
      command: HOST_ID_BASE + 2 * slot + 1,
      release() {
        if (!held) return;
        held = false;
        try {
          unlinkSync(lock);
        } catch {
          // already gone
        }
      },
    };
  }
  throw new Error(`no free pair of sandbox uids: all ${slots} locks in ${lockDir} are held by live processes`);
}

/** uid_map/gid_map text: the agent's and the commands' host ids, nothing else (host root is not mapped). */
export function idMap(ids: Pick<HostIds, 'agent' | 'command'>): string {
  return `${INSIDE_AGENT_ID} ${ids.agent} 1\n${INSIDE_COMMAND_ID} ${ids.command} 1\n`;
}

/** SIGKILL every process whose real uid is `uid` (a sandbox's, once its launcher is gone): stragglers must not outlive the pair. */
export function killProcessesOf(uid: number): number {
  let killed = 0;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let status: string;
    try {
      status = readFileSync(`/proc/${name}/status`, 'utf8');
    } catch {
      continue; // gone
    }
    if (Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]) !== uid) continue;
    if (signalQuietly(Number(name), 'SIGKILL')) killed += 1;
  }
  return killed;
}
