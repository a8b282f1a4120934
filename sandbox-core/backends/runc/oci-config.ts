/**
 * The OCI runtime spec (1.0.2) config.json of one runc sandbox, as a pure
 * function of what the sandbox may do: the agent is the container's process
 * on stdio, the root is the shared read-only rootfs, /tmp and /dev are
 * private tmpfs, the workspace is the only writable host directory.
 */

/** Linux capabilities 0..40 (linux/capability.h, 6.1); runc silently drops a name it does not know, so we refuse it. */
const CAPABILITIES = new Set(
  [
    'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP', 'LINUX_IMMUTABLE',
    'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER', 'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT',
    'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE', 'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE',
    'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP', 'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ',
    'PERFMON', 'BPF', 'CHECKPOINT_RESTORE',
  ].map((name) => `CAP_${name}`),
);

/** Default for pids.max: enough for any build tool, small enough to stop a fork bomb. */
export const DEFAULT_PIDS_LIMIT = 1024;

export interface OciConfigInput {
  /** Container id; also its hostname. */
  id: string;
  /** Absolute path of the read-only root filesystem. */
  rootfs: string;
  /** Absolute host directory bound read-write at `workspacePath`. */
  workspaceSource: string;
  workspacePath: string;
  /** Host paths bound read-only (the Node agent's /usr and script). */
  readOnlyBinds?: { source: string; destination: string }[];
  /** The process (agent) command line inside the container. */
  args: string[];
  env: Record<string, string>;
  /** cgroup path; relative = under the cgroups of whoever runs runc. */
  cgroupsPath: string;
  memoryMiB?: number;
  pidsLimit?: number;
  /** Whether memory.memsw.* exists: then swap is capped at the memory limit, so the limit cannot be dodged by swapping. */
  swapAccounting: boolean;
  capabilities: string[];
}

export interface OciConfig {
  ociVersion: string;
  process: Record<string, unknown>;
  root: { path: string; readonly: boolean };
  hostname: string;
  mounts: { destination: string; type: string; source: string; options?: string[] }[];
  linux: Record<string, unknown>;
}

/** Throws naming the bad entry when a capability is not one the kernel has. */
export function checkCapabilities(capabilities: string[]): void {
  for (const name of capabilities) {
    if (!CAPABILITIES.has(name)) throw new Error(`spec.capabilities: expected Linux capability names like CAP_NET_ADMIN, found ${JSON.stringify(name)}`);
  }
}

export function ociConfig(input: OciConfigInput): OciConfig {
  checkCapabilities(input.capabilities);
  const caps = [...input.capabilities];
  const memory =
    input.memoryMiB === undefined
      ? undefined
      : { limit: input.memoryMiB * 1024 * 1024, ...(input.swapAccounting ? { swap: input.memoryMiB * 1024 * 1024 } : {}) };
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: input.args,
      env: Object.entries(input.env).map(([key, value]) => `${key}=${value}`),
      cwd: input.workspacePath,
      // The same list in every set: granted means usable, nothing else is held.
      capabilities: { bounding: caps, effective: caps, permitted: caps, inheritable: caps, ambient: caps },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: input.rootfs, readonly: true },
    hostname: input.id,
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      {
        destination: '/dev/pts',
        type: 'devpts',
        source: 'devpts',
        options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
      },
      { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777', 'size=262144k'] },
      ...(input.readOnlyBinds ?? []).map(({ source, destination }) => ({
        destination,
        type: 'bind',
        source,
        options: ['rbind', 'rprivate', 'ro', 'nosuid', 'nodev'],
      })),
      { destination: input.workspacePath, type: 'bind', source: input.workspaceSource, options: ['rbind', 'rprivate', 'rw', 'nosuid', 'nodev'] },
    ],
    linux: {
      // A new network namespace: runc itself brings its loopback up and nothing else exists in it.
      namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'ipc' }, { type: 'uts' }, { type: 'network' }],
      cgroupsPath: input.cgroupsPath,
      resources: {
        devices: [{ allow: false, access: 'rwm' }],
        pids: { limit: input.pidsLimit ?? DEFAULT_PIDS_LIMIT },
        ...(memory ? { memory } : {}),
      },
      rootfsPropagation: 'private',
      maskedPaths: [
        '/proc/acpi',
        '/proc/asound',
        '/proc/kcore',
        '/proc/keys',
        '/proc/latency_stats',
        '/proc/timer_list',
        '/proc/timer_stats',
        '/proc/sched_debug',
        '/proc/scsi',
      ],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}
