/**
 * The helper that starts a launcher in its sandbox's cgroups: it joins them
 * itself, runs the program as the uid and gid given with no supplementary
 * groups, and refuses, naming the file, what it cannot join.
 */
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { cgroupExecArgs, cgroupExecPath } from '../../../sandbox-core/isolation/cgroup-exec.ts';
import { makeLimitCgroups } from '../../../sandbox-core/isolation/cgroup-limits.ts';

const root = process.getuid?.() === 0;
const NOBODY = 65534;

describe('cgroupExecArgs', () => {
  it('joins each file, then drops to the ids and runs the absolute program', () => {
    expect(cgroupExecArgs({ joinFiles: ['/a/tasks', '/b/tasks'], uid: 7, gid: 8, command: '/usr/bin/bwrap', args: ['--x', 'y'] })).toEqual([
      '--uid', '7', '--gid', '8', '--join', '/a/tasks', '--join', '/b/tasks', '--', '/usr/bin/bwrap', '--x', 'y',
    ]);
  });

  it('refuses a program found by PATH search, naming it', () => {
    expect(() => cgroupExecArgs({ joinFiles: [], uid: 0, gid: 0, command: 'bwrap', args: [] })).toThrow('cgroup-exec: expected an absolute program path, found "bwrap"');
  });
});

describe.skipIf(!root)('rigor-cgroup-exec (needs root)', () => {
  it('runs the program in every cgroup it joined, as the uid and gid given and no other group', async () => {
    const cgroups = makeLimitCgroups(`bwrap-${process.pid}-cgroup-exec`, { pids: 50, memoryMiB: 64 });
    try {
      const helper = await cgroupExecPath();
      const script = 'cat /proc/self/cgroup; echo "ids $(id -u) $(id -g) $(id -G)"';
      const result = await execa(helper, cgroupExecArgs({ joinFiles: cgroups.joinFiles, uid: NOBODY, gid: NOBODY, command: '/bin/sh', args: ['-c', script] }));
      const lines = String(result.stdout).split('\n');
      expect(lines).toContain(`ids ${NOBODY} ${NOBODY} ${NOBODY}`);
      // each directory's path below its hierarchy's mount shows in /proc/self/cgroup of the program
      for (const { dir } of cgroups.dirs) {
        const below = dir.replace(/^\/sys\/fs\/cgroup\/[^/]+/, '');
        expect(lines.some((line) => line.endsWith(`:${below}`))).toBe(true);
      }
    } finally {
      expect(cgroups.remove()).toEqual([]);
    }
  });

  it('exits 125 naming the file when it cannot join, and runs nothing', async () => {
    const result = await execa(await cgroupExecPath(), cgroupExecArgs({ joinFiles: ['/sys/fs/cgroup/pids/rigor-no-such-cgroup/tasks'], uid: NOBODY, gid: NOBODY, command: '/bin/echo', args: ['ran'] }), { reject: false });
    expect(result.exitCode).toBe(125);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe('rigor-cgroup-exec: joining /sys/fs/cgroup/pids/rigor-no-such-cgroup/tasks: No such file or directory');
  });
});
