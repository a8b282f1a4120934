/**
 * Per-sandbox cgroups: made and limited, and reclaimed when the rigor that
 * made them died — also with a process still inside that outlived it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { processExists } from '../../../base/signal.ts';
import { cgroupExecArgs, cgroupExecPath } from '../../../sandbox-core/isolation/cgroup-exec.ts';
import { makeLimitCgroups, sweepStaleLimitCgroups } from '../../../sandbox-core/isolation/cgroup-limits.ts';
import { settlesToZero } from '../../helpers/leftovers.ts';

const root = process.getuid?.() === 0;

describe.skipIf(!root)('limit cgroups', () => {
  it('are limited as asked', () => {
    const cgroups = makeLimitCgroups(`bwrap-${process.pid}-limits`, { pids: 77, memoryMiB: 64 });
    try {
      const pids = cgroups.dirs.find((entry) => existsSync(join(entry.dir, 'pids.max')))!;
      expect(readFileSync(join(pids.dir, 'pids.max'), 'utf8').trim()).toBe('77');
    } finally {
      expect(cgroups.remove()).toEqual([]);
    }
  });

  it('of a dead owner are swept, and what still runs in them is killed first', async () => {
    const dead = spawnSync('true').pid!; // an owner pid that is gone
    const cgroups = makeLimitCgroups(`bwrap-${dead}-orphan`, { pids: 10, memoryMiB: 64 });
    const orphan = spawn(await cgroupExecPath(), cgroupExecArgs({ joinFiles: cgroups.joinFiles, uid: 0, gid: 0, command: '/bin/sleep', args: ['600'] }), { stdio: 'ignore' });
    const exited = new Promise((resolve) => orphan.once('exit', resolve));
    expect(cgroups.dirs.every((entry) => existsSync(entry.dir))).toBe(true);
    // the helper joins before it execs sleep: wait for the exec, then the orphan is in every directory
    expect(await settlesToZero(() => cgroups.dirs.filter(({ dir }) => !readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').includes(String(orphan.pid))).length)).toBe(0);
    // one sweep: it waits for the killed process to leave before removing the directories (the next run's
    // sweep left a killed rigor's bwrap cgroup behind when it did not)
    sweepStaleLimitCgroups();
    expect(cgroups.dirs.filter((entry) => existsSync(entry.dir))).toEqual([]);
    await exited;
    expect(processExists(orphan.pid!)).toBe(false);
  });
});
