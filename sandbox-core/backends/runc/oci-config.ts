/**
 * The OCI runtime spec (1.0.2) config.json of one runc sandbox, as a pure
 * function of what the sandbox may do: the agent is the container's process
 * on stdio, root of a user namespace that maps only the sandbox's own pair of
 * host ids; the root is the shared read-only rootfs; /tmp, /dev and the
 * workspace are private, size-limited tmpfs; memory and pids are capped in
 * cgroups; syscalls are filtered by the seccomp profile the backend passes.
 */
import { checkCapabilities } from '../../isolation/capabilities.ts';
import { DEFAULT_LIMITS } from '../../isolation/limits.ts';
import { INSIDE_AGENT_ID, INSIDE_COMMAND_ID, type HostIds } from '../../isolation/host-ids.ts';
import type { OciSeccomp } from '../../seccomp/profile.ts';


/**
 * What the native agent itself holds (inside its user namespace, so over
 * nothing the host owns), to run commands as INSIDE_COMMAND_ID and nothing more:
 * - CAP_SETUID, CAP_SETGID: setgroups/setresgid/setresuid of each command, and the
 *   setfsuid/setfsgid under which file requests run as the command user;
 * - CAP_SETPCAP: PR_CAPBSET_DROP, which empties each command's bounding set before the
 *   uid change (without it every exec fails: "drop privileges: Operation not permitted");
 * - CAP_KILL: the group kills (timeout, end of a command, shutdown) reach processes of
 *   another uid (without it a timed-out command runs on).
 * Not CAP_DAC_OVERRIDE: the agent touches files only as the command user (setfsuid clears
 * the file capabilities meanwhile) or as itself (/proc/self, its stdio).
 */
export const AGENT_CAPABILITIES = ['CAP_KILL', 'CAP_SETGID', 'CAP_SETPCAP', 'CAP_SETUID'] as const;
/** The Node agent's: spawn's setgroups/setgid/setuid and its group kills; it drops no bounding set (no CAP_SETPCAP). */
export const NODE_AGENT_CAPABILITIES = ['CAP_KILL', 'CAP_SETGID', 'CAP_SETUID'] as const;

/** Default pids.max of a container: DEFAULT_LIMITS.pids (kept under this name for the engine backends). */
export const DEFAULT_PIDS_LIMIT = DEFAULT_LIMITS.pids;

/** Size of the private /tmp tmpfs (charged to the memory limit as it fills). */
const TMP_MIB = 256;

export interface OciConfigInput {
  /** Container id; also its hostname. */
  id: string;
  /** Absolute path of the read-only root filesystem; every directory on the way must be searchable by the mapped root. */
  rootfs: string;
  /** Where the workspace tmpfs is mounted inside. */
  workspacePath: string;
  /** Size of the workspace tmpfs. */
  workspaceMiB: number;
  /** Host paths bound read-only (the Node agent's /usr and script). */
  readOnlyBinds?: { source: string; destination: string }[];
  /** The process (agent) command line inside the container. */
  args: string[];
  env: Record<string, string>;
  /** cgroup path; relative = under the cgroups of whoever runs runc. */
  cgroupsPath: string;
  memoryMiB: number;
  pidsLimit: number;
  /** Whether memory.memsw.* exists: then swap is capped at the memory limit, so the limit cannot be dodged by swapping. */
  swapAccounting: boolean;
  /** Host ids the user namespace maps: container root → agent, INSIDE_COMMAND_ID → command; nothing else. */
  hostIds: Pick<HostIds, 'agent' | 'command'>;
  /** What the agent needs for itself (default AGENT_CAPABILITIES, the native agent's). */
  agentCapabilities?: readonly string[];
  /** Capabilities the spec grants the commands; the agent holds them too, to hand them on. */
  capabilities: string[];
  /** The OCI `linux.seccomp` object; undefined = no filter (spec.seccomp 'unconfined'). */
  seccomp?: OciSeccomp;
}

export interface OciConfig {
  ociVersion: string;
  process: Record<string, unknown>;
  root: { path: string; readonly: boolean };
  hostname: string;
  mounts: { destination: string; type: string; source: string; options?: string[] }[];
  linux: Record<string, unknown>;
}

export function ociConfig(input: OciConfigInput): OciConfig {
  checkCapabilities(input.capabilities);
  const granted = [...new Set(input.capabilities)].sort();
  const held = [...new Set<string>([...(input.agentCapabilities ?? AGENT_CAPABILITIES), ...granted])].sort();
  const bytes = input.memoryMiB * 1024 * 1024;
  const idMappings = [
    { containerID: INSIDE_AGENT_ID, hostID: input.hostIds.agent, size: 1 },
    { containerID: INSIDE_COMMAND_ID, hostID: input.hostIds.command, size: 1 },
  ];
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: INSIDE_AGENT_ID, gid: INSIDE_AGENT_ID },
      args: input.args,
      env: Object.entries(input.env).map(([key, value]) => `${key}=${value}`),
      cwd: input.workspacePath,
      // The agent's: what it needs to drop commands to the command user, plus what they are granted. Only the
      // granted ones are inheritable (and ambient), so a command that is granted nothing shows none in any set.
      capabilities: { bounding: held, effective: held, permitted: held, inheritable: granted, ambient: granted },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: input.rootfs, readonly: true },
    hostname: input.id,
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      // no gid=5: the tty group is not mapped in the user namespace (and nothing here allocates a terminal)
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'] },
      { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777', `size=${TMP_MIB}m`] },
      ...(input.readOnlyBinds ?? []).map(({ source, destination }) => ({
        destination,
        type: 'bind',
        source,
        options: ['rbind', 'rprivate', 'ro', 'nosuid', 'nodev'],
      })),
      // The workspace: a tmpfs of its own size, the command user's (uid/gid are read in the container's user namespace).
      {
        destination: input.workspacePath,
        type: 'tmpfs',
        source: 'tmpfs',
        options: ['nosuid', 'nodev', 'mode=0755', `size=${input.workspaceMiB}m`, `uid=${INSIDE_COMMAND_ID}`, `gid=${INSIDE_COMMAND_ID}`],
      },
    ],
    linux: {
      // A new network namespace: runc itself brings its loopback up and nothing else exists in it.
      namespaces: [{ type: 'user' }, { type: 'pid' }, { type: 'mount' }, { type: 'ipc' }, { type: 'uts' }, { type: 'network' }],
      uidMappings: idMappings,
      gidMappings: idMappings,
      cgroupsPath: input.cgroupsPath,
      resources: {
        devices: [{ allow: false, access: 'rwm' }],
        pids: { limit: input.pidsLimit },
        memory: { limit: bytes, ...(input.swapAccounting ? { swap: bytes } : {}) },
      },
      ...(input.seccomp ? { seccomp: input.seccomp } : {}),
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
