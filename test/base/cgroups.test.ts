import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cgroupDirsFor, cgroupProcs, dirOf, freezeCgroup, parseCgroupMounts, parseSubsystems, removeCgroupDirs, thawCgroup } from '../../base/cgroups.ts';

const procCgroups = ['#subsys_name\thierarchy\tnum_cgroups\tenabled', 'cpu\t2\t1\t1', 'cpuacct\t2\t1\t1', 'memory\t4\t3\t1', 'pids\t8\t1\t1', ''].join('\n');

// cgroup v1 hybrid as on the development host: cpu and cpuacct co-mounted here, memory nested under a session cgroup
const mountinfo = [
  '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
  '32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct',
  '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
  '39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids',
  '40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd',
  '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate',
].join('\n');

const procSelfCgroup = ['9:name=systemd:/', '8:pids:/', '4:memory:/process_api/abc', '2:cpu,cpuacct:/', '0::/', ''].join('\n');

describe('cgroup directories of a container', () => {
  it('tells controllers from other mount options', () => {
    const mounts = parseCgroupMounts(mountinfo, parseSubsystems(procCgroups));
    expect(mounts.map((mount) => mount.controllers)).toEqual([['cpu', 'cpuacct'], ['memory'], ['pids'], ['name=systemd'], []]);
  });

  it('puts a relative cgroups path under this process\'s own cgroup in every hierarchy', () => {
    const dirs = cgroupDirsFor('rigor-runc-1-x', mountinfo, procSelfCgroup, procCgroups);
    expect(dirOf(dirs, 'memory')).toBe('/sys/fs/cgroup/memory/process_api/abc/rigor-runc-1-x');
    expect(dirOf(dirs, 'pids')).toBe('/sys/fs/cgroup/pids/rigor-runc-1-x');
    expect(dirOf(dirs, 'cpuacct')).toBe('/sys/fs/cgroup/cpu,cpuacct/rigor-runc-1-x');
    expect(dirOf(dirs, '')).toBe('/sys/fs/cgroup/unified/rigor-runc-1-x');
    expect(dirs).toHaveLength(5);
  });

  it('maps through a cgroupfs mounted at a sub-cgroup, and skips a hierarchy this process is outside of', () => {
    const nested = ['50 1 0:40 /outer /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids', '51 1 0:41 /other /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory'].join('\n');
    const dirs = cgroupDirsFor('c', nested, '8:pids:/outer/me\n4:memory:/mine\n', procCgroups);
    expect(dirs).toEqual([{ controllers: ['pids'], dir: '/sys/fs/cgroup/pids/me/c' }]);
  });
});

// Freezing a real cgroup of each kind this host mounts (v1 freezer and the v2 hierarchy), with a real process in it.
const own = process.getuid?.() === 0 ? cgroupDirsFor(`rigor-freeze-test-${process.pid}`) : [];
const freezable = [
  { kind: 'v1 freezer.state', dir: dirOf(own, 'freezer') },
  { kind: 'v2 cgroup.freeze', dir: dirOf(own, '') },
].filter((entry): entry is { kind: string; dir: string } => entry.dir !== undefined && existsSync(join(entry.dir, '..')));

describe.skipIf(freezable.length === 0)('freezeCgroup and thawCgroup (needs root and a mounted freezer)', () => {
  it.each(freezable)('stops every task of a $kind cgroup until it is thawed', async ({ dir }) => {
    mkdirSync(dir);
    const child = spawn('/bin/sh', ['-c', 'read line; echo "$line"'], { stdio: ['pipe', 'pipe', 'ignore'] });
    try {
      writeFileSync(join(dir, 'cgroup.procs'), String(child.pid));
      await freezeCgroup(dir);
      if (existsSync(join(dir, 'freezer.state'))) expect(readFileSync(join(dir, 'freezer.state'), 'utf8').trim()).toBe('FROZEN');
      else expect(readFileSync(join(dir, 'cgroup.events'), 'utf8')).toMatch(/^frozen 1$/m);
      // a frozen task runs nothing: the line written now is echoed only after the thaw
      let echoed = '';
      child.stdout!.on('data', (chunk: Buffer) => (echoed += chunk.toString()));
      child.stdin!.write('after thaw\n');
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(echoed).toBe('');
      thawCgroup(dir);
      await new Promise((resolve) => child.once('exit', resolve));
      expect(echoed).toBe('after thaw\n');
    } finally {
      child.kill('SIGKILL');
      thawCgroup(dir);
      for (let attempt = 0; cgroupProcs(dir).length > 0 && attempt < 100; attempt++) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(removeCgroupDirs([{ controllers: [], dir }])).toEqual([]);
    }
  });
});
