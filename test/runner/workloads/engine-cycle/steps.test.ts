import { describe, expect, it } from 'vitest';
import { breakdownSteps, containerName, forceRemoveStep, listOursStep, ownerPid, runRmStep, type EngineCli } from '../../../../runner/workloads/engine-cycle/steps.ts';

const podman: EngineCli = {
  cli: '/usr/bin/podman',
  env: {},
  globalArgs: ['--cgroup-manager', 'cgroupfs', '--events-backend', 'file'],
  runArgs: ['--ulimit', 'nofile=1024:1024'],
  runtimeArgs: ['--runtime', '/usr/bin/runsc'],
  image: 'rigor/busybox-agent:abc',
};

describe('engine.cycle command lines', () => {
  it('put the global flags before the verb and the connection and runtime flags before the image', () => {
    expect(runRmStep(podman, 'rigor-cycle-7-0', ['echo', 'hello'])).toEqual({
      file: '/usr/bin/podman',
      argv: [
        'podman',
        '--cgroup-manager', 'cgroupfs', '--events-backend', 'file',
        'run', '--rm', '--name', 'rigor-cycle-7-0', '--network', 'none',
        '--ulimit', 'nofile=1024:1024', '--runtime', '/usr/bin/runsc',
        'rigor/busybox-agent:abc', 'echo', 'hello',
      ],
    });
  });

  it('make a breakdown of five commands on one container, the exec running the command', () => {
    const steps = breakdownSteps({ ...podman, globalArgs: [], runArgs: [], runtimeArgs: [], cli: '/usr/bin/docker' }, 'c', ['echo', 'hello']);
    expect(Object.keys(steps)).toEqual(['create', 'start', 'exec', 'stop', 'rm']);
    expect(steps.create.argv).toEqual(['docker', 'create', '--name', 'c', '--network', 'none', 'rigor/busybox-agent:abc', 'sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait']);
    expect(steps.start.argv).toEqual(['docker', 'start', 'c']);
    expect(steps.exec.argv).toEqual(['docker', 'exec', 'c', 'echo', 'hello']);
    expect(steps.stop.argv).toEqual(['docker', 'stop', 'c']);
    expect(steps.rm.argv).toEqual(['docker', 'rm', 'c']);
  });

  it('name containers by owner pid, and read the pid back from ours only', () => {
    expect(containerName(4242, 17)).toBe('rigor-cycle-4242-17');
    expect(ownerPid('rigor-cycle-4242-17')).toBe(4242);
    expect(ownerPid('rigor-cycle-x-1')).toBeNull();
    expect(ownerPid('other-4242-17')).toBeNull();
  });

  it('list and force-remove with the global flags too', () => {
    expect(listOursStep(podman).argv.slice(1, 6)).toEqual(['--cgroup-manager', 'cgroupfs', '--events-backend', 'file', 'ps']);
    expect(forceRemoveStep(podman, ['a', 'b']).argv.slice(-4)).toEqual(['rm', '--force', 'a', 'b']);
  });
});
