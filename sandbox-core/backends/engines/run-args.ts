/**
 * The `<engine> run` command line of one sandbox, as a pure function of what
 * it may do. Attached with -i and no tty, so the container's stdin/stdout are
 * the agent channel (binary-safe, stderr apart); the imported image's root
 * read-only with private /tmp and workspace tmpfs (the workspace owned by the
 * command user, its size the spec's; both exec, as runc's, where the engine's
 * default would be noexec: a program written into the workspace must run); no network but loopback; every
 * capability dropped but what the agent needs to run its commands as
 * INSIDE_COMMAND_ID (runc/oci-config.ts AGENT_CAPABILITIES) and what the spec
 * grants; no_new_privs; rigor's seccomp profile; pids and memory limits in the
 * engine's cgroup; no log driver (it would copy every protocol frame to
 * disk); never a registry pull. The engine's own flags (podman's ulimits and
 * uid map, a runtime) come last, before the image.
 */
import { checkCapabilities } from '../../isolation/capabilities.ts';
import { AGENT_CAPABILITIES } from '../runc/oci-config.ts';

/** The label naming the rigor process that made a container: one whose owner is dead is stale (stale.ts). */
export const OWNER_LABEL = 'rigor.owner';
/** Size of the private /tmp tmpfs (charged to the memory limit as it fills), as runc's. */
const TMP_MIB = 256;

export interface EngineRunInput {
  /** Container name; also its hostname. */
  name: string;
  image: string;
  /** Pid of the rigor process that owns the container. */
  owner: number;
  workspacePath: string;
  workspaceMiB: number;
  /** uid (= gid) inside that owns the workspace (docker); undefined = the image's 1777 mount point decides (podman refuses uid=). */
  workspaceUid?: number;
  /** Capabilities the agent needs for itself. */
  agentCapabilities?: readonly string[];
  /** Capabilities the spec grants the commands. */
  capabilities: string[];
  memoryMiB: number;
  pidsLimit: number;
  /** Path of a seccomp profile in the engine's JSON format, or 'unconfined'. */
  seccomp: string;
  env: Record<string, string>;
  /** Flags of the engine and runtime (podman's --ulimit, --uidmap; --runtime). */
  engineArgs: string[];
  /** The agent's command line inside the image. */
  command: string[];
  /** Host unix sockets bound in read-only (the egress proxy's and resolver's); connect() is not a write. */
  socketBinds?: Array<{ hostPath: string; sandboxPath: string }>;
}

export function engineRunArgs(input: EngineRunInput): string[] {
  checkCapabilities(input.capabilities);
  // --tmpfs splits on ':' and ','
  if (/[:,]/.test(input.workspacePath)) throw new Error(`workspace path ${JSON.stringify(input.workspacePath)} holds a ':' or ',', which --tmpfs cannot express`);
  const held = [...new Set([...(input.agentCapabilities ?? AGENT_CAPABILITIES), ...input.capabilities])].sort();
  const args = ['run', '--interactive', '--rm=false', '--name', input.name, '--label', `${OWNER_LABEL}=${input.owner}`];
  args.push('--pull', 'never', '--log-driver', 'none', '--network', 'none', '--read-only', '--tmpfs', `/tmp:rw,exec,nosuid,nodev,mode=1777,size=${TMP_MIB}m`);
  const owner = input.workspaceUid === undefined ? 'mode=1777' : `mode=0755,uid=${input.workspaceUid},gid=${input.workspaceUid}`;
  args.push('--tmpfs', `${input.workspacePath}:rw,exec,nosuid,nodev,${owner},size=${input.workspaceMiB}m`);
  args.push('--cap-drop', 'ALL', ...held.flatMap((capability) => ['--cap-add', capability]));
  args.push('--security-opt', 'no-new-privileges', '--security-opt', `seccomp=${input.seccomp}`);
  args.push('--pids-limit', String(input.pidsLimit));
  // runc's RLIMIT_NOFILE, unless the engine's own flags set it already (podman's)
  if (!input.engineArgs.some((arg) => arg.startsWith('nofile='))) args.push('--ulimit', 'nofile=1024:1024');
  // swap capped at the memory limit, so the limit cannot be dodged by swapping
  args.push('--memory', `${input.memoryMiB}m`, '--memory-swap', `${input.memoryMiB}m`);
  // an engine stopping it (a daemon shutting down) kills it after 1 s, not 10: the agent has nothing to save
  args.push('--stop-timeout', '1', '--hostname', input.name, '--workdir', input.workspacePath);
  for (const [key, value] of Object.entries(input.env)) args.push('--env', `${key}=${value}`);
  for (const { hostPath, sandboxPath } of input.socketBinds ?? []) {
    // --volume splits on ':'
    if (hostPath.includes(':') || sandboxPath.includes(':')) throw new Error(`socket ${JSON.stringify(hostPath)}: a path holding ':' cannot be bound with --volume`);
    args.push('--volume', `${hostPath}:${sandboxPath}:ro`);
  }
  args.push(...input.engineArgs);
  args.push(input.image, ...input.command);
  return args;
}
