import { describe, expect, it } from 'vitest';
import { engineRunArgs, WORKSPACE_LABEL, type EngineRunInput } from '../../../../sandbox-core/backends/engines/run-args.ts';

const input: EngineRunInput = {
  name: 'docker-42-0a1b2c3d',
  image: 'rigor/busybox-agent:0123456789abcdef',
  workspaceHostDir: '/tmp/rigor-docker-42-Xy12Ab',
  workspacePath: '/workspace',
  capabilities: [],
  pidsLimit: 1024,
  env: { PATH: '/bin', HOME: '/root' },
  command: ['/sbin/rigor-agent', '--init'],
};

/** The value following `flag` in `args`, for every occurrence. */
function valuesOf(args: string[], flag: string): string[] {
  return args.flatMap((arg, index) => (arg === flag ? [args[index + 1]!] : []));
}

describe('engineRunArgs', () => {
  it('builds the whole attached, locked-down run command for a default spec', () => {
    expect(engineRunArgs(input)).toEqual([
      'run', '--interactive', '--rm=false', '--name', 'docker-42-0a1b2c3d', '--label', `${WORKSPACE_LABEL}=/tmp/rigor-docker-42-Xy12Ab`,
      '--pull', 'never', '--log-driver', 'none', '--network', 'none', '--read-only', '--tmpfs', '/tmp:rw,nosuid,nodev,mode=1777,size=262144k',
      '--cap-drop', 'ALL',
      '--security-opt', 'no-new-privileges', '--pids-limit', '1024', '--ulimit', 'nofile=1024:1024',
      '--hostname', 'docker-42-0a1b2c3d', '--volume', '/tmp/rigor-docker-42-Xy12Ab:/workspace:rw', '--workdir', '/workspace',
      '--env', 'PATH=/bin', '--env', 'HOME=/root',
      'rigor/busybox-agent:0123456789abcdef', '/sbin/rigor-agent', '--init',
    ]);
  });

  it('never detaches or allocates a tty: the container stdio is the agent channel', () => {
    const args = engineRunArgs(input);
    for (const flag of ['-d', '--detach', '-t', '--tty', '--rm']) expect(args).not.toContain(flag);
  });

  it('adds back only the granted capabilities after dropping all', () => {
    const args = engineRunArgs({ ...input, capabilities: ['CAP_NET_ADMIN', 'CAP_SYS_PTRACE'] });
    expect(valuesOf(args, '--cap-drop')).toEqual(['ALL']);
    expect(valuesOf(args, '--cap-add')).toEqual(['CAP_NET_ADMIN', 'CAP_SYS_PTRACE']);
    expect(args.indexOf('--cap-drop')).toBeLessThan(args.indexOf('--cap-add'));
  });

  it('caps memory and swap together when a limit is given, and nothing otherwise', () => {
    expect(valuesOf(engineRunArgs({ ...input, memoryMiB: 64 }), '--memory')).toEqual(['64m']);
    expect(valuesOf(engineRunArgs({ ...input, memoryMiB: 64 }), '--memory-swap')).toEqual(['64m']);
    expect(engineRunArgs(input)).not.toContain('--memory');
  });

  it('binds the workspace at the path the spec asks for and starts there', () => {
    const args = engineRunArgs({ ...input, workspacePath: '/srv/work' });
    expect(valuesOf(args, '--volume')).toEqual(['/tmp/rigor-docker-42-Xy12Ab:/srv/work:rw']);
    expect(valuesOf(args, '--workdir')).toEqual(['/srv/work']);
  });

  it('ends with the image and the agent command, so no flag lands in the agent argv', () => {
    const args = engineRunArgs({ ...input, command: ['/sbin/rigor-agent', '--init', '--stage', 'x=1'] });
    expect(args.slice(-5)).toEqual(['rigor/busybox-agent:0123456789abcdef', '/sbin/rigor-agent', '--init', '--stage', 'x=1']);
  });

  it('rejects a capability that is not a CAP_ name and a path --volume cannot express', () => {
    expect(() => engineRunArgs({ ...input, capabilities: ['net_admin'] })).toThrow(/names like CAP_NET_ADMIN, found "net_admin"/);
    expect(() => engineRunArgs({ ...input, workspacePath: '/a:b' })).toThrow(`workspace path "/a:b" holds a ':'`);
  });
});
