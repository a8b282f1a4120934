import { describe, expect, it } from 'vitest';
import { INSIDE_COMMAND_ID } from '../../../../sandbox-core/isolation/host-ids.ts';
import { ociSeccomp, seccompProfile } from '../../../../sandbox-core/seccomp/profile.ts';
import { AGENT_CAPABILITIES, ociConfig, type OciConfigInput } from '../../../../sandbox-core/backends/runc/oci-config.ts';

const MiB = 1024 * 1024;
const input: OciConfigInput = {
  id: 'rigor-runc-1-abc',
  rootfs: '/cache/rootfs',
  workspacePath: '/workspace',
  workspaceMiB: 1024,
  args: ['/sbin/rigor-agent', '--init', '--exec-user', '1000:1000'],
  env: { PATH: '/bin' },
  cgroupsPath: 'rigor-runc-1-abc',
  memoryMiB: 2048,
  pidsLimit: 1024,
  swapAccounting: true,
  hostIds: { agent: 1_500_000_010, command: 1_500_000_011 },
  capabilities: [],
};

describe('ociConfig', () => {
  it('gives the agent only what it needs to drop its commands, none of it inheritable, with no_new_privs and plain stdio', () => {
    const config = ociConfig(input);
    const agentCaps = [...AGENT_CAPABILITIES].sort();
    expect(agentCaps).toEqual(['CAP_KILL', 'CAP_SETGID', 'CAP_SETPCAP', 'CAP_SETUID']);
    expect(config.process.capabilities).toEqual({ bounding: agentCaps, effective: agentCaps, permitted: agentCaps, inheritable: [], ambient: [] });
    expect(config.process.user).toEqual({ uid: 0, gid: 0 });
    expect(config.process.noNewPrivileges).toBe(true);
    expect(config.process.terminal).toBe(false);
    expect(config.process.args).toEqual(input.args);
    expect(config.process.env).toEqual(['PATH=/bin']);
  });

  it('adds a granted capability to the agent\'s sets and makes only it inheritable, for the agent to hand on', () => {
    const caps = ociConfig({ ...input, capabilities: ['CAP_NET_ADMIN'] }).process.capabilities as Record<string, string[]>;
    expect(caps.inheritable).toEqual(['CAP_NET_ADMIN']);
    expect(caps.ambient).toEqual(['CAP_NET_ADMIN']);
    for (const set of [caps.bounding, caps.effective, caps.permitted]) expect(set).toEqual([...AGENT_CAPABILITIES, 'CAP_NET_ADMIN'].sort());
  });

  it('rejects a capability the kernel does not have, which runc would drop without a word', () => {
    expect(() => ociConfig({ ...input, capabilities: ['net_admin'] })).toThrow(/spec.capabilities: expected Linux capability names like CAP_NET_ADMIN, found "net_admin"/);
    expect(() => ociConfig({ ...input, capabilities: ['CAP_BOGUS'] })).toThrow(/found "CAP_BOGUS"/);
    expect(() => ociConfig({ ...input, capabilities: ['CAP_CHECKPOINT_RESTORE', 'CAP_CHOWN'] })).not.toThrow();
  });

  it('mounts the root read-only and the workspace as a size-limited tmpfs of the command user, with no host directory read-write', () => {
    const config = ociConfig({ ...input, workspaceMiB: 8 });
    expect(config.root).toEqual({ path: '/cache/rootfs', readonly: true });
    expect(config.mounts.filter((mount) => mount.type === 'bind')).toEqual([]);
    const workspace = config.mounts.find((mount) => mount.destination === '/workspace')!;
    expect(workspace.type).toBe('tmpfs');
    expect(workspace.options).toEqual(expect.arrayContaining(['size=8m', `uid=${INSIDE_COMMAND_ID}`, `gid=${INSIDE_COMMAND_ID}`, 'nosuid', 'nodev']));
    expect(config.mounts.map((mount) => mount.destination)).toEqual(['/proc', '/dev', '/dev/pts', '/tmp', '/workspace']);
  });

  it('binds extra host paths read-only', () => {
    const config = ociConfig({ ...input, readOnlyBinds: [{ source: '/usr', destination: '/usr' }] });
    const usr = config.mounts.find((mount) => mount.destination === '/usr');
    expect(usr?.options).toContain('ro');
    expect(usr?.options).not.toContain('rw');
  });

  it('asks for user, pid, mount, ipc, uts and network namespaces, the user one mapping only the sandbox\'s two host ids', () => {
    const linux = ociConfig(input).linux;
    expect((linux.namespaces as { type: string }[]).map((ns) => ns.type).sort()).toEqual(['ipc', 'mount', 'network', 'pid', 'user', 'uts']);
    const mappings = [
      { containerID: 0, hostID: 1_500_000_010, size: 1 },
      { containerID: INSIDE_COMMAND_ID, hostID: 1_500_000_011, size: 1 },
    ];
    expect(linux.uidMappings).toEqual(mappings);
    expect(linux.gidMappings).toEqual(mappings);
  });

  it('always caps memory (with swap when it is accounted) and pids', () => {
    const withSwap = ociConfig({ ...input, memoryMiB: 64, pidsLimit: 64 }).linux.resources as Record<string, unknown>;
    expect(withSwap.memory).toEqual({ limit: 64 * MiB, swap: 64 * MiB });
    expect(withSwap.pids).toEqual({ limit: 64 });
    const noSwap = ociConfig({ ...input, swapAccounting: false }).linux.resources as Record<string, unknown>;
    expect(noSwap.memory).toEqual({ limit: 2048 * MiB });
  });

  it('sets linux.seccomp when given one, and none when not', () => {
    const seccomp = ociSeccomp(seccompProfile());
    expect(ociConfig({ ...input, seccomp }).linux.seccomp).toEqual(seccomp);
    expect('seccomp' in ociConfig(input).linux).toBe(false);
  });
});
