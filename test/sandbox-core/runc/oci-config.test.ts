import { describe, expect, it } from 'vitest';
import { DEFAULT_PIDS_LIMIT, ociConfig, type OciConfigInput } from '../../../sandbox-core/backends/runc/oci-config.ts';

const input: OciConfigInput = {
  id: 'rigor-runc-1-abc',
  rootfs: '/cache/rootfs',
  workspaceSource: '/tmp/rigor-runc-1-abc/workspace',
  workspacePath: '/workspace',
  args: ['/sbin/rigor-agent', '--init'],
  env: { PATH: '/bin' },
  cgroupsPath: 'rigor-runc-1-abc',
  swapAccounting: true,
  capabilities: [],
};

describe('ociConfig', () => {
  it('holds no capability by default, in any set, with no_new_privs and the agent on plain stdio', () => {
    const config = ociConfig(input);
    expect(config.process.capabilities).toEqual({ bounding: [], effective: [], permitted: [], inheritable: [], ambient: [] });
    expect(config.process.noNewPrivileges).toBe(true);
    expect(config.process.terminal).toBe(false);
    expect(config.process.args).toEqual(['/sbin/rigor-agent', '--init']);
    expect(config.process.env).toEqual(['PATH=/bin']);
  });

  it('puts a granted capability in every set, so it is usable and nothing else is', () => {
    const caps = ociConfig({ ...input, capabilities: ['CAP_NET_ADMIN'] }).process.capabilities as Record<string, string[]>;
    for (const set of Object.values(caps)) expect(set).toEqual(['CAP_NET_ADMIN']);
  });

  it('rejects a capability the kernel does not have, which runc would drop without a word', () => {
    expect(() => ociConfig({ ...input, capabilities: ['net_admin'] })).toThrow(/spec.capabilities: expected Linux capability names like CAP_NET_ADMIN, found "net_admin"/);
    expect(() => ociConfig({ ...input, capabilities: ['CAP_BOGUS'] })).toThrow(/found "CAP_BOGUS"/);
    expect(() => ociConfig({ ...input, capabilities: ['CAP_CHECKPOINT_RESTORE', 'CAP_CHOWN'] })).not.toThrow();
  });

  it('mounts the root read-only and the workspace as the only read-write bind', () => {
    const config = ociConfig(input);
    expect(config.root).toEqual({ path: '/cache/rootfs', readonly: true });
    const binds = config.mounts.filter((mount) => mount.type === 'bind');
    expect(binds).toEqual([expect.objectContaining({ destination: '/workspace', source: input.workspaceSource })]);
    expect(binds[0]!.options).toContain('rw');
    expect(config.mounts.map((mount) => mount.destination)).toEqual(['/proc', '/dev', '/dev/pts', '/tmp', '/workspace']);
  });

  it('binds extra host paths read-only', () => {
    const config = ociConfig({ ...input, readOnlyBinds: [{ source: '/usr', destination: '/usr' }] });
    const usr = config.mounts.find((mount) => mount.destination === '/usr');
    expect(usr?.options).toContain('ro');
    expect(usr?.options).not.toContain('rw');
  });

  it('asks for new pid, mount, ipc, uts and network namespaces and no user namespace', () => {
    const types = (ociConfig(input).linux.namespaces as { type: string }[]).map((ns) => ns.type);
    expect(types.sort()).toEqual(['ipc', 'mount', 'network', 'pid', 'uts']);
  });

  it('caps memory and swap together when swap is accounted, memory alone when not, and pids always', () => {
    const withSwap = ociConfig({ ...input, memoryMiB: 64 }).linux.resources as Record<string, unknown>;
    expect(withSwap.memory).toEqual({ limit: 64 * 1024 * 1024, swap: 64 * 1024 * 1024 });
    expect(withSwap.pids).toEqual({ limit: DEFAULT_PIDS_LIMIT });
    const noSwap = ociConfig({ ...input, memoryMiB: 64, swapAccounting: false }).linux.resources as Record<string, unknown>;
    expect(noSwap.memory).toEqual({ limit: 64 * 1024 * 1024 });
    expect((ociConfig(input).linux.resources as Record<string, unknown>).memory).toBeUndefined();
  });
});
