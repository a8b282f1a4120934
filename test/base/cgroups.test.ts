import { describe, expect, it } from 'vitest';
import { cgroupDirsFor, dirOf, parseCgroupMounts, parseSubsystems } from '../../base/cgroups.ts';

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
