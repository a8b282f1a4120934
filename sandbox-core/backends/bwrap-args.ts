/**
 * The bubblewrap command line for one sandbox, as a pure function of what
 * the host's root holds and what the spec grants. Namespaces: user (even as
 * root, so capabilities are dropped), pid, ipc, uts, net (bwrap brings its
 * loopback up), cgroup where the kernel has it; mount is implied. No nested
 * user namespaces (`--disable-userns`, a large kernel attack surface) unless
 * the spec grants capabilities.
 *
 * The host root is bound read-only entry by entry rather than `--ro-bind / /`
 * because a mount point for the workspace must be made in bwrap's own root;
 * `--remount-ro /` then freezes that root too.
 */

/** One entry of the host's `/`: a directory or file to bind, or a symlink to recreate. */
export interface RootEntry {
  name: string;
  symlinkTarget?: string;
}

export interface BwrapPlan {
  rootEntries: RootEntry[];
  /** Host directory bound writable at `workspacePath`. */
  workspaceHostDir: string;
  workspacePath: string;
  hostname: string;
  /** Capability names granted inside (CAP_NET_ADMIN); all others are dropped. */
  capabilities: string[];
  /** Environment of the agent; bwrap starts it from an empty one. */
  env: Record<string, string>;
  /** Fd on which bwrap writes `{"child-pid": N}` (the sandbox's pid 1 on the host). */
  infoFd: number;
  /** Host files bound read-only at a path inside (agent files the root binds do not show). */
  extraFiles: Array<{ hostPath: string; sandboxPath: string }>;
  /** Host directories covered by an empty tmpfs inside (secrets such as the proxy CA's key); each must exist. */
  hiddenDirs: string[];
  /** The agent's argv inside the sandbox. */
  command: string[];
}

/** Top-level host paths the sandbox gets fresh instead of from the host. */
const FRESH_TOP_LEVEL = new Set(['proc', 'dev', 'tmp']);

const CAPABILITY_NAME = /^CAP_[A-Z_]+$/;

/** Check a workspace path; returns its first component. Throws naming the field, what was expected and found. */
function workspaceTopLevel(workspacePath: string): string {
  const parts = workspacePath.split('/');
  if (!workspacePath.startsWith('/') || parts.length < 2 || parts.slice(1).some((part) => part === '' || part === '.' || part === '..')) {
    throw new Error(`sandbox spec workspacePath: expected an absolute normalized path below / such as /workspace, found ${JSON.stringify(workspacePath)}`);
  }
  const top = parts[1]!;
  if (FRESH_TOP_LEVEL.has(top) && top !== 'tmp') {
    throw new Error(`sandbox spec workspacePath: expected a path outside /proc and /dev, found ${JSON.stringify(workspacePath)}`);
  }
  return top;
}

/** Whether a host path is hidden inside because its top-level directory is fresh or the workspace's. */
export function hiddenInside(hostPath: string, workspacePath: string): boolean {
  const top = hostPath.split('/')[1] ?? '';
  return FRESH_TOP_LEVEL.has(top) || top === workspaceTopLevel(workspacePath);
}

export function bwrapArgs(plan: BwrapPlan): string[] {
  const workspaceTop = workspaceTopLevel(plan.workspacePath);
  const args = [
    '--unshare-user', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-net', '--unshare-cgroup-try',
    '--die-with-parent', '--new-session',
    '--info-fd', String(plan.infoFd),
    '--hostname', plan.hostname,
    '--cap-drop', 'ALL',
  ];
  for (const capability of plan.capabilities) {
    if (!CAPABILITY_NAME.test(capability)) {
      throw new Error(`sandbox spec capabilities: expected names like CAP_NET_ADMIN, found ${JSON.stringify(capability)}`);
    }
    args.push('--cap-add', capability);
  }
  // The nested user namespace --disable-userns makes owns none of the others, so a granted capability would act on nothing.
  if (plan.capabilities.length === 0) args.push('--disable-userns');
  for (const entry of plan.rootEntries) {
    // The workspace's top-level directory comes from bwrap's own root so its mount point can be made there.
    if (FRESH_TOP_LEVEL.has(entry.name) || entry.name === workspaceTop) continue;
    const path = `/${entry.name}`;
    if (entry.symlinkTarget !== undefined) args.push('--symlink', entry.symlinkTarget, path);
    else args.push('--ro-bind', path, path);
  }
  args.push('--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp');
  args.push('--bind', plan.workspaceHostDir, plan.workspacePath);
  for (const file of plan.extraFiles) args.push('--ro-bind', file.hostPath, file.sandboxPath);
  for (const dir of plan.hiddenDirs) args.push('--tmpfs', dir);
  args.push('--remount-ro', '/', '--chdir', plan.workspacePath, '--clearenv');
  for (const [key, value] of Object.entries(plan.env)) args.push('--setenv', key, value);
  args.push('--', ...plan.command);
  return args;
}
