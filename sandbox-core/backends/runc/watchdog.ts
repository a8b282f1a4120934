/**
 * One small shell per rigor process that outlives it on purpose: it blocks
 * reading a pipe only rigor holds, and at end of stream (rigor exited or was
 * SIGKILLed) thaws this process's frozen containers, so the SIGKILL their
 * dead runc left pending is delivered, then rmdirs their cgroups and removes
 * their temp dirs. Why: pdeathsig kills runc and a running container, but a
 * paused one sits frozen with the signal pending and nothing would ever thaw it.
 * Another backend on runc's modules (gvisor) gets a watchdog of its own for
 * its rigor-<backend>-<pid>- cgroups and temp dirs.
 */
import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { cgroupDirsFor } from '../../../base/cgroups.ts';

/** $1 = name prefix, $2 = temp root, then the cgroup parent dirs. Retries rmdir while the thawed processes die. */
const SCRIPT = `
read _ignored
prefix=$1; temp=$2; shift 2
for parent in "$@"; do
  for file in "$parent"/"$prefix"*/freezer.state; do [ -e "$file" ] && echo THAWED > "$file"; done
  for file in "$parent"/"$prefix"*/cgroup.freeze; do [ -e "$file" ] && echo 0 > "$file"; done
done
for attempt in 1 2 3 4 5 6 7 8 9 10; do
  left=0
  for parent in "$@"; do
    for dir in "$parent"/"$prefix"*; do [ -d "$dir" ] && { rmdir "$dir" 2>/dev/null || left=1; }; done
  done
  [ $left = 0 ] && break
  sleep 0.2
done
rm -rf "$temp"/"$prefix"*
`;

/** The watchdog's $0, so a process listing tells it from a sandbox's processes. */
export const WATCHDOG_NAME = watchdogName('runc');

/** The watchdog's $0 for `backend`'s containers (WATCHDOG_NAME for runc). */
export function watchdogName(backend: string): string {
  return `rigor-${backend}-watchdog`;
}

const started = new Set<string>();

/** Start the watchdog of `backend`'s containers once per process; later calls do nothing. */
export function ensureRuncWatchdog(backend = 'runc'): void {
  if (started.has(backend)) return;
  started.add(backend);
  const parents = cgroupDirsFor('').map((entry) => entry.dir);
  const child = spawn('/bin/sh', ['-c', SCRIPT, watchdogName(backend), `rigor-${backend}-${process.pid}-`, tmpdir(), ...parents], {
    // its own group and session: a Ctrl-C aimed at rigor must not take the watchdog with it
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  child.on('error', () => {
    started.delete(backend);
  });
  // rigor may exit while the watchdog waits: neither the child nor its pipe keeps the event loop alive
  child.unref();
  (child.stdin as Socket).unref();
}
