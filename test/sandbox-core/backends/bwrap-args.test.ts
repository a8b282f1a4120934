import { describe, expect, it } from 'vitest';
import { bwrapArgs, checkWorkspacePath, type BwrapPlan } from '../../../sandbox-core/backends/bwrap-args.ts';

const plan = (overrides: Partial<BwrapPlan> = {}): BwrapPlan => ({
  rootEntries: [{ name: 'usr' }, { name: 'bin', symlinkTarget: 'usr/bin' }, { name: 'etc' }, { name: 'root' }, { name: 'home' }, { name: 'var' }, { name: 'run' }, { name: 'work' }],
  coveredEtc: [{ path: '/etc/shadow', directory: false }, { path: '/etc/ssh', directory: true }],
  workspacePath: '/workspace',
  workspaceBytes: 8 << 20,
  tmpBytes: 4 << 20,
  hostname: 'bwrap-1-abc',
  agentCapabilities: ['CAP_SETUID', 'CAP_SETGID'],
  env: { PATH: '/usr/bin', HOME: '/workspace' },
  infoFd: 3,
  usernsBlockFd: 4,
  seccompFd: 5,
  extraFiles: [],
  command: ['/.rigor-agent/rigor-agent', '--exec-user', '1000:1000'],
  ...overrides,
});

/** The values following each occurrence of `flag`. */
function after(args: string[], flag: string, count = 1): string[][] {
  return args.flatMap((arg, index) => (arg === flag ? [args.slice(index + 1, index + 1 + count)] : []));
}

describe('bwrapArgs', () => {
  it('unshares every namespace, waits for rigor to map the user namespace, makes the agent root inside', () => {
    const args = bwrapArgs(plan());
    for (const flag of ['--unshare-user', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-net', '--unshare-cgroup-try', '--die-with-parent', '--new-session']) {
      expect(args).toContain(flag);
    }
    expect(after(args, '--userns-block-fd')).toEqual([['4']]);
    expect(after(args, '--info-fd')).toEqual([['3']]);
    expect(after(args, '--uid')).toEqual([['0']]);
    expect(after(args, '--gid')).toEqual([['0']]);
    expect(after(args, '--hostname')).toEqual([['bwrap-1-abc']]);
  });

  it('drops every capability but the ones the agent is given, and loads the seccomp filter', () => {
    const args = bwrapArgs(plan());
    expect(after(args, '--cap-drop')).toEqual([['ALL']]);
    expect(after(args, '--cap-add')).toEqual([['CAP_SETUID'], ['CAP_SETGID']]);
    expect(after(args, '--seccomp')).toEqual([['5']]);
    expect(bwrapArgs(plan({ seccompFd: undefined }))).not.toContain('--seccomp');
  });

  it('binds only the system directories read-only, recreating symlinks, and covers the credentials in /etc', () => {
    const args = bwrapArgs(plan());
    expect(after(args, '--ro-bind', 2)).toEqual([['/usr', '/usr'], ['/etc', '/etc'], ['/dev/null', '/etc/shadow']]);
    expect(after(args, '--symlink', 2)).toEqual([['usr/bin', '/bin']]);
    for (const hostOnly of ['/root', '/home', '/var', '/run', '/work']) expect(args).not.toContain(hostOnly);
    expect(after(args, '--proc')).toEqual([['/proc']]);
    expect(after(args, '--dev')).toEqual([['/dev']]);
    // The covers come after /etc itself is bound.
    expect(args.indexOf('/etc/shadow')).toBeGreaterThan(args.indexOf('/etc'));
  });

  it('makes /tmp and the workspace size-limited tmpfs mounts everyone inside may write, before the root turns read-only', () => {
    const args = bwrapArgs(plan());
    expect(after(args, '--tmpfs')).toEqual([['/etc/ssh'], ['/tmp'], ['/workspace']]);
    expect(after(args, '--size')).toEqual([[String(4 << 20)], [String(8 << 20)]]);
    expect(after(args, '--perms')).toEqual([['1777'], ['1777']]);
    expect(args.indexOf('--remount-ro')).toBeGreaterThan(args.lastIndexOf('--tmpfs'));
    expect(after(args, '--chdir')).toEqual([['/workspace']]);
    expect(bwrapArgs(plan({ workspacePath: '/tmp' })).filter((arg) => arg === '--tmpfs')).toHaveLength(2);
  });

  it('starts the agent from an empty environment holding only the given variables, then the command', () => {
    const args = bwrapArgs(plan({ extraFiles: [{ hostPath: '/run/rigor/stage/x/agent', sandboxPath: '/.rigor-agent/agent' }], command: ['/.rigor-agent/agent', '--stage', 'a=1'] }));
    const clear = args.indexOf('--clearenv');
    expect(clear).toBeGreaterThan(0);
    expect(args.indexOf('--setenv')).toBeGreaterThan(clear);
    expect(after(args, '--setenv', 2)).toEqual([['PATH', '/usr/bin'], ['HOME', '/workspace']]);
    expect(after(args, '--ro-bind', 2)).toContainEqual(['/run/rigor/stage/x/agent', '/.rigor-agent/agent']);
    expect(args.slice(args.indexOf('--'))).toEqual(['--', '/.rigor-agent/agent', '--stage', 'a=1']);
  });

  it('rejects a capability or workspace it cannot express, naming the field and what was found', () => {
    expect(() => bwrapArgs(plan({ agentCapabilities: ['net_admin'] }))).toThrow('sandbox spec capabilities: expected names like CAP_NET_ADMIN, found "net_admin"');
    expect(() => checkWorkspacePath('workspace')).toThrow('sandbox spec workspacePath: expected an absolute normalized path below / such as /workspace, found "workspace"');
    expect(() => checkWorkspacePath('/a/../etc')).toThrow(/workspacePath/);
    expect(() => checkWorkspacePath('/')).toThrow(/workspacePath/);
    expect(() => checkWorkspacePath('/proc/ws')).toThrow(/expected a path outside \/proc, \/dev and the system's directories/);
    expect(() => checkWorkspacePath('/usr/ws')).toThrow(/found "\/usr\/ws"/);
    expect(() => checkWorkspacePath('/srv/ws')).not.toThrow();
  });
});
