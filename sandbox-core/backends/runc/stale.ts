/**
 * Cgroups left by a rigor that died without its watchdog's help (the
 * watchdog itself killed, or the host rebooted mid-cleanup): named
 * rigor-runc-<owner pid>-XXXXXX like the sandbox temp dirs (which cleanup.ts
 * sweeps), so the owner's death is what marks them stale. Another backend on
 * runc's modules (gvisor) sweeps its own, rigor-<backend>-<owner pid>-.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { processExists, signalQuietly } from '../../../base/signal.ts';
import { cgroupDirsFor, cgroupProcs, removeCgroupDirs, thawCgroup, type CgroupDir } from '../../../base/cgroups.ts';

/** A killed, thawed process leaves its cgroup within milliseconds; give up on a directory after this. */
const RETRIES = 20;
const RETRY_MS = 50;

/** Thaw, SIGKILL and rmdir every stale container cgroup of `backend` beside ours; resolves with the directories removed. */
export async function sweepStaleRuncCgroups(backend = 'runc'): Promise<string[]> {
  let busy = staleCgroupDirs(new RegExp(`^rigor-${backend}-(\\d+)-`));
  const removed: string[] = [];
  for (let attempt = 0; busy.length > 0 && attempt < RETRIES; attempt++) {
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    for (const { dir } of busy) {
      for (const pid of cgroupProcs(dir)) signalQuietly(pid, 'SIGKILL');
      thawCgroup(dir);
    }
    const left = new Set(removeCgroupDirs(busy));
    removed.push(...busy.filter(({ dir }) => !left.has(dir)).map(({ dir }) => dir));
    busy = busy.filter(({ dir }) => left.has(dir));
  }
  return removed;
}

function staleCgroupDirs(containerName: RegExp): CgroupDir[] {
  const stale: CgroupDir[] = [];
  for (const parent of cgroupDirsFor('')) {
    let names: string[];
    try {
      names = readdirSync(parent.dir);
    } catch {
      continue;
    }
    for (const name of names) {
      const owner = containerName.exec(name)?.[1];
      if (owner === undefined || Number(owner) === process.pid || processExists(Number(owner))) continue;
      stale.push({ controllers: parent.controllers, dir: join(parent.dir, name) });
    }
  }
  return stale;
}
