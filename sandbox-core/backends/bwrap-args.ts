/**
 * The bubblewrap command line for one sandbox, as a pure function of what
 * the host's root holds and what the spec grants. Namespaces: user, pid,
 * ipc, uts, net (bwrap brings its loopback up), cgroup where the kernel has
 * it; mount is implied.
 *
 * bwrap runs as the sandbox's own unprivileged host uid and its user
 * namespace maps nothing but two host uids (written by rigor through
 * `--userns-block-fd`, see bwrap.ts): the agent is root inside, its commands
 * an ordinary user. Host root is not mapped, so nothing inside can write a
 * global sysctl or any host file that is not world-writable.
 *
 * Only what programs need is bound, read-only: the system's binaries and
 * libraries and /etc with its credentials covered. Home directories, the
 * project checkout, /var, /run (host sockets), /srv, /opt and /sys are not
 * there. The workspace and /tmp are size-limited tmpfs mounts, charged to the
 * sandbox's memory cgroup rather than the host's disk.
 */

/** One entry of the host's `/`: a directory or file to bind, or a symlink to recreate. */
export interface RootEntry {
  name: string;
  symlinkTarget?: string;
}

/** A path under the host's /etc to cover: a file by /dev/null, a directory by an empty tmpfs. */
export interface CoveredPath {
  path: string;
  directory: boolean;
}

export interface BwrapPlan {
  rootEntries: RootEntry[];
  /** Paths under /etc covered inside (credentials); only those that exist on the host. */
  coveredEtc: CoveredPath[];
  workspacePath: string;
  /** Sizes of the workspace and /tmp tmpfs mounts. */
  workspaceBytes: number;
  tmpBytes: number;
  hostname: string;
  /** Capabilities the agent holds inside its user namespace: what it needs to drop its commands, and what the spec grants them. */
  agentCapabilities: string[];
  /** Environment of the agent; bwrap starts it from an empty one. */
  env: Record<string, string>;
  /** Fd on which bwrap writes `{"child-pid": N}` (the sandbox's pid 1 on the host). */
  infoFd: number;
  /** Fd bwrap waits on until rigor has written the user namespace's uid and gid maps. */
  usernsBlockFd: number;
  /** Fd carrying the seccomp BPF program, or undefined for none (spec.seccomp: 'unconfined'). */
  seccompFd?: number;
  /** Host files bound read-only at a path inside (the agent's files, egress sockets). */
  extraFiles: Array<{ hostPath: string; sandboxPath: string }>;
  /** The agent's argv inside the sandbox. */
  command: string[];
}

/** Top-level host entries bound into a sandbox: programs and libraries, and /etc (credentials covered). */
export const SYSTEM_TOP_LEVEL = new Set(['usr', 'bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32', 'etc']);

/** Credentials and host secrets under /etc: never shown inside, even where their mode would already refuse. */
export const ETC_SECRETS = ['shadow', 'shadow-', 'gshadow', 'gshadow-', 'sudoers', 'sudoers.d', 'ssh', 'ssl/private', 'security/opasswd', 'subuid', 'subgid', 'machine-id'];

/** Top-level paths a workspace cannot take: they are the sandbox's own or the system's. */
const RESERVED_TOP_LEVEL = new Set(['proc', 'dev', 'tmp', ...SYSTEM_TOP_LEVEL]);

const CAPABILITY_NAME = /^CAP_[A-Z_]+$/;

/** Check a workspace path; throws naming the field, what was expected and found. */
export function checkWorkspacePath(workspacePath: string): void {
  const parts = workspacePath.split('/');
  if (!workspacePath.startsWith('/') || parts.length < 2 || parts.slice(1).some((part) => part === '' || part === '.' || part === '..')) {
    throw new Error(`sandbox spec workspacePath: expected an absolute normalized path below / such as /workspace, found ${JSON.stringify(workspacePath)}`);
  }
  const top = parts[1]!;
  if (RESERVED_TOP_LEVEL.has(top) && top !== 'tmp') {
    throw new Error(`sandbox spec workspacePath: expected a path outside /proc, /dev and the system's directories (${[...SYSTEM_TOP_LEVEL].join(', ')}), found ${JSON.stringify(workspacePath)}`);
  }
}

export function bwrapArgs(plan: BwrapPlan): string[] {
  checkWorkspacePath(plan.workspacePath);
  const args = [
    '--unshare-user', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-net', '--unshare-cgroup-try',
    '--uid', '0', '--gid', '0',
    '--userns-block-fd', String(plan.usernsBlockFd),
    '--die-with-parent', '--new-session',
    '--info-fd', String(plan.infoFd),
    '--hostname', plan.hostname,
    '--cap-drop', 'ALL',
  ];
  for (const capability of plan.agentCapabilities) {
    if (!CAPABILITY_NAME.test(capability)) {
      throw new Error(`sandbox spec capabilities: expected names like CAP_NET_ADMIN, found ${JSON.stringify(capability)}`);
    }
    args.push('--cap-add', capability);
  }
  for (const entry of plan.rootEntries) {
    if (!SYSTEM_TOP_LEVEL.has(entry.name)) continue;
    const path = `/${entry.name}`;
    if (entry.symlinkTarget !== undefined) args.push('--symlink', entry.symlinkTarget, path);
    else args.push('--ro-bind', path, path);
  }
  for (const covered of plan.coveredEtc) {
    if (covered.directory) args.push('--tmpfs', covered.path);
    else args.push('--ro-bind', '/dev/null', covered.path);
  }
  args.push('--proc', '/proc', '--dev', '/dev');
  args.push('--perms', '1777', '--size', String(plan.tmpBytes), '--tmpfs', '/tmp');
  if (plan.workspacePath !== '/tmp') args.push('--perms', '1777', '--size', String(plan.workspaceBytes), '--tmpfs', plan.workspacePath);
  for (const file of plan.extraFiles) args.push('--ro-bind', file.hostPath, file.sandboxPath);
  if (plan.seccompFd !== undefined) args.push('--seccomp', String(plan.seccompFd));
  args.push('--remount-ro', '/', '--chdir', plan.workspacePath, '--clearenv');
  for (const [key, value] of Object.entries(plan.env)) args.push('--setenv', key, value);
  args.push('--', ...plan.command);
  return args;
}
