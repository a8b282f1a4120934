import { describe, expect, it } from 'vitest';
import { engineRunArgs, OWNER_LABEL, type EngineRunInput } from '../../../../sandbox-core/backends/engines/run-args.ts';

const input: EngineRunInput = {
  name: 'docker-42-0a1b2c3d',
  image: 'rigor/busybox-agent:0123456789abcdef-2',
  owner: 42,
  workspacePath: '/workspace',
  workspaceMiB: 1024,
  workspaceUid: 1000,
  capabilities: [],
  memoryMiB: 2048,
  pidsLimit: 1024,
  seccomp: '/cache/rigor/engine-seccomp/x/seccomp.json',
  env: { PATH: '/bin', HOME: '/root' },
  engineArgs: [],
  command: ['/sbin/rigor-agent', '--init', '--exec-user', '1000:1000'],
};

/** The value following `flag` in `args`, for every occurrence. */
function valuesOf(args: string[], flag: string): string[] {
  return args.flatMap((arg, index) => (arg === flag ? [args[index + 1]!] : []));
}

describe('engineRunArgs', () => {
  it('builds the whole attached, locked-down run command for a default spec', () => {
    expect(engineRunArgs(input)).toEqual([
      'run', '--interactive', '--rm=false', '--name', 'docker-42-0a1b2c3d', '--label', `${OWNER_LABEL}=42`,
      '--pull', 'never', '--log-driver', 'none', '--network', 'none', '--read-only', '--tmpfs', '/tmp:rw,exec,nosuid,nodev,mode=1777,size=256m',
      '--tmpfs', '/workspace:rw,exec,nosuid,nodev,mode=0755,uid=1000,gid=1000,size=1024m',
      '--cap-drop', 'ALL', '--cap-add', 'CAP_KILL', '--cap-add', 'CAP_SETGID', '--cap-add', 'CAP_SETPCAP', '--cap-add', 'CAP_SETUID',
      '--security-opt', 'no-new-privileges', '--security-opt', 'seccomp=/cache/rigor/engine-seccomp/x/seccomp.json',
      '--pids-limit', '1024', '--ulimit', 'nofile=1024:1024',
      '--memory', '2048m', '--memory-swap', '2048m',
      '--stop-timeout', '1', '--hostname', 'docker-42-0a1b2c3d', '--workdir', '/workspace',
      '--env', 'PATH=/bin', '--env', 'HOME=/root',
      'rigor/busybox-agent:0123456789abcdef-2', '/sbin/rigor-agent', '--init', '--exec-user', '1000:1000',
    ]);
  });

  it('never detaches or allocates a tty: the container stdio is the agent channel', () => {
    const args = engineRunArgs(input);
    for (const flag of ['-d', '--detach', '-t', '--tty', '--rm']) expect(args).not.toContain(flag);
  });

  it("adds back only the agent's capabilities and the granted ones after dropping all", () => {
    const args = engineRunArgs({ ...input, capabilities: ['CAP_NET_ADMIN', 'CAP_KILL'] });
    expect(valuesOf(args, '--cap-drop')).toEqual(['ALL']);
    expect(valuesOf(args, '--cap-add')).toEqual(['CAP_KILL', 'CAP_NET_ADMIN', 'CAP_SETGID', 'CAP_SETPCAP', 'CAP_SETUID']);
    expect(args.indexOf('--cap-drop')).toBeLessThan(args.indexOf('--cap-add'));
  });

  it('caps memory and swap together at the limit', () => {
    expect(valuesOf(engineRunArgs({ ...input, memoryMiB: 64 }), '--memory')).toEqual(['64m']);
    expect(valuesOf(engineRunArgs({ ...input, memoryMiB: 64 }), '--memory-swap')).toEqual(['64m']);
  });

  it('mounts the workspace tmpfs at the path the spec asks for, sized, and starts there', () => {
    const args = engineRunArgs({ ...input, workspacePath: '/srv/work', workspaceMiB: 8 });
    expect(valuesOf(args, '--tmpfs')[1]).toBe('/srv/work:rw,exec,nosuid,nodev,mode=0755,uid=1000,gid=1000,size=8m');
    expect(valuesOf(args, '--workdir')).toEqual(['/srv/work']);
  });

  it('leaves the owner to the image (a 1777 mount point) when the engine takes no uid=', () => {
    expect(valuesOf(engineRunArgs({ ...input, workspaceUid: undefined }), '--tmpfs')[1]).toBe('/workspace:rw,exec,nosuid,nodev,mode=1777,size=1024m');
  });

  it("puts the engine's flags before the image, and its nofile ulimit instead of the default one", () => {
    const args = engineRunArgs({ ...input, engineArgs: ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', '--runtime', 'runsc'] });
    expect(valuesOf(args, '--ulimit')).toEqual(['nofile=1024:1024', 'nproc=1024:1024']);
    expect(args.slice(-8, -4)).toEqual(['nproc=1024:1024', '--runtime', 'runsc', 'rigor/busybox-agent:0123456789abcdef-2']);
  });

  it('passes unconfined as the seccomp profile when asked', () => {
    expect(valuesOf(engineRunArgs({ ...input, seccomp: 'unconfined' }), '--security-opt')).toEqual(['no-new-privileges', 'seccomp=unconfined']);
  });

  it('ends with the image and the agent command, so no flag lands in the agent argv', () => {
    const args = engineRunArgs({ ...input, command: ['/sbin/rigor-agent', '--init', '--stage', 'x=1'] });
    expect(args.slice(-5)).toEqual(['rigor/busybox-agent:0123456789abcdef-2', '/sbin/rigor-agent', '--init', '--stage', 'x=1']);
  });

  it('rejects a capability that is not a CAP_ name and a path --tmpfs cannot express', () => {
    expect(() => engineRunArgs({ ...input, capabilities: ['net_admin'] })).toThrow(/names like CAP_NET_ADMIN, found "net_admin"/);
    expect(() => engineRunArgs({ ...input, workspacePath: '/a:b' })).toThrow(`workspace path "/a:b" holds a ':' or ','`);
    expect(() => engineRunArgs({ ...input, workspacePath: '/a,b' })).toThrow(`workspace path "/a,b" holds a ':' or ','`);
  });
});
