import { describe, expect, it } from 'vitest';
import { bwrapArgs, hiddenInside, type BwrapPlan } from '../../../sandbox-core/backends/bwrap-args.ts';

const plan = (overrides: Partial<BwrapPlan> = {}): BwrapPlan => ({
  rootEntries: [{ name: 'usr' }, { name: 'bin', symlinkTarget: 'usr/bin' }, { name: 'proc' }, { name: 'dev' }, { name: 'tmp' }, { name: 'etc' }, { name: 'workspace' }],
  workspaceHostDir: '/tmp/rigor-bwrap-1-abc',
  workspacePath: '/workspace',
  hostname: 'bwrap-1-abc',
  capabilities: [],
  env: { PATH: '/usr/bin', HOME: '/workspace' },
  infoFd: 3,
  extraFiles: [],
  hiddenDirs: [],
  command: ['/root/.cache/rigor-agent'],
  ...overrides,
});

/** The values following each occurrence of `flag`. */
function after(args: string[], flag: string, count = 1): string[][] {
  return args.flatMap((arg, index) => (arg === flag ? [args.slice(index + 1, index + 1 + count)] : []));
}

describe('bwrapArgs', () => {
  it('covers hidden host directories with an empty tmpfs after the root is bound', () => {
    const args = bwrapArgs(plan({ hiddenDirs: ['/root/.cache/rigor/ca'] }));
    expect(after(args, '--tmpfs')).toContainEqual(['/root/.cache/rigor/ca']);
    expect(args.indexOf('/root/.cache/rigor/ca')).toBeLessThan(args.indexOf('--remount-ro'));
  });

  it('unshares every namespace, drops all capabilities and nested user namespaces, dies with its parent', () => {
    const args = bwrapArgs(plan());
    for (const flag of ['--unshare-user', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-net', '--unshare-cgroup-try', '--die-with-parent', '--new-session', '--disable-userns']) {
      expect(args).toContain(flag);
    }
    expect(after(args, '--cap-drop')).toEqual([['ALL']]);
    expect(after(args, '--cap-add')).toEqual([]);
    expect(after(args, '--info-fd')).toEqual([['3']]);
    expect(after(args, '--hostname')).toEqual([['bwrap-1-abc']]);
  });

  it('binds the host root read-only entry by entry, recreating symlinks and leaving /proc, /dev, /tmp and the workspace top fresh', () => {
    const args = bwrapArgs(plan());
    expect(after(args, '--ro-bind', 2)).toEqual([['/usr', '/usr'], ['/etc', '/etc']]);
    expect(after(args, '--symlink', 2)).toEqual([['usr/bin', '/bin']]);
    expect(after(args, '--proc')).toEqual([['/proc']]);
    expect(after(args, '--dev')).toEqual([['/dev']]);
    expect(after(args, '--tmpfs')).toEqual([['/tmp']]);
    expect(after(args, '--bind', 2)).toEqual([['/tmp/rigor-bwrap-1-abc', '/workspace']]);
    // The root is made read-only after every mount point was created in it.
    expect(args.indexOf('--remount-ro')).toBeGreaterThan(args.indexOf('--bind'));
    expect(after(args, '--chdir')).toEqual([['/workspace']]);
  });

  it('hides the host directory holding a nested workspace path', () => {
    const args = bwrapArgs(plan({ workspacePath: '/etc/ws' }));
    expect(after(args, '--ro-bind', 2)).toEqual([['/usr', '/usr'], ['/workspace', '/workspace']]);
    expect(after(args, '--bind', 2)).toEqual([['/tmp/rigor-bwrap-1-abc', '/etc/ws']]);
  });

  it('starts the agent from an empty environment holding only the given variables, then the command', () => {
    const args = bwrapArgs(plan({ extraFiles: [{ hostPath: '/tmp/x/agent', sandboxPath: '/.rigor-agent/agent' }], command: ['/.rigor-agent/agent', '--stage', 'a=1'] }));
    const clear = args.indexOf('--clearenv');
    expect(clear).toBeGreaterThan(0);
    expect(args.indexOf('--setenv')).toBeGreaterThan(clear);
    expect(after(args, '--setenv', 2)).toEqual([['PATH', '/usr/bin'], ['HOME', '/workspace']]);
    expect(after(args, '--ro-bind', 2)).toContainEqual(['/tmp/x/agent', '/.rigor-agent/agent']);
    expect(args.slice(args.indexOf('--'))).toEqual(['--', '/.rigor-agent/agent', '--stage', 'a=1']);
  });

  it('grants named capabilities and then keeps nested user namespaces, whose grants would act on nothing', () => {
    const args = bwrapArgs(plan({ capabilities: ['CAP_NET_ADMIN'] }));
    expect(after(args, '--cap-add')).toEqual([['CAP_NET_ADMIN']]);
    expect(args).not.toContain('--disable-userns');
  });

  it('rejects a capability or workspace it cannot express, naming the field and what was found', () => {
    expect(() => bwrapArgs(plan({ capabilities: ['net_admin'] }))).toThrow('sandbox spec capabilities: expected names like CAP_NET_ADMIN, found "net_admin"');
    expect(() => bwrapArgs(plan({ workspacePath: 'workspace' }))).toThrow('sandbox spec workspacePath: expected an absolute normalized path below / such as /workspace, found "workspace"');
    expect(() => bwrapArgs(plan({ workspacePath: '/a/../etc' }))).toThrow(/workspacePath/);
    expect(() => bwrapArgs(plan({ workspacePath: '/' }))).toThrow(/workspacePath/);
    expect(() => bwrapArgs(plan({ workspacePath: '/proc/ws' }))).toThrow('expected a path outside /proc and /dev');
  });
});

describe('hiddenInside', () => {
  it('is true under the fresh /tmp and the workspace top, false under bound host dirs', () => {
    expect(hiddenInside('/tmp/cache/agent', '/workspace')).toBe(true);
    expect(hiddenInside('/workspace/agent', '/workspace')).toBe(true);
    expect(hiddenInside('/root/.cache/agent', '/workspace')).toBe(false);
  });
});
