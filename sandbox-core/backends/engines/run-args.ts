/**
 * The `<engine> run` command line of one sandbox, as a pure function of what
 * it may do. Attached with -i and no tty, so the container's stdin/stdout are
 * the agent channel (binary-safe, stderr apart); the imported image's root
 * read-only with a private /tmp; the host workspace dir the only writable
 * bind; no network but loopback; every capability dropped unless granted;
 * no_new_privs; pids and memory limits in the engine's cgroup; no log driver
 * (it would copy every protocol frame to disk); never a registry pull.
 */
import { checkCapabilities } from '../../isolation/capabilities.ts';

/** The label naming a container's host workspace dir: a container whose workspace is gone is stale (stale.ts). */
export const WORKSPACE_LABEL = 'rigor.workspace';

export interface EngineRunInput {
  /** Container name; also its hostname. */
  name: string;
  image: string;
  /** Absolute host directory bound read-write at `workspacePath`. */
  workspaceHostDir: string;
  workspacePath: string;
  capabilities: string[];
  memoryMiB?: number;
  pidsLimit: number;
  env: Record<string, string>;
  /** The agent's command line inside the image. */
  command: string[];
}

export function engineRunArgs(input: EngineRunInput): string[] {
  checkCapabilities(input.capabilities);
  for (const path of [input.workspaceHostDir, input.workspacePath]) {
    // --volume splits on ':'; a path holding one would bind something else
    if (path.includes(':')) throw new Error(`workspace path ${JSON.stringify(path)} holds a ':', which --volume cannot express`);
  }
  const args = ['run', '--interactive', '--rm=false', '--name', input.name, '--label', `${WORKSPACE_LABEL}=${input.workspaceHostDir}`];
  args.push('--pull', 'never', '--log-driver', 'none', '--network', 'none', '--read-only', '--tmpfs', '/tmp:rw,nosuid,nodev,mode=1777,size=262144k');
  args.push('--cap-drop', 'ALL', ...input.capabilities.flatMap((capability) => ['--cap-add', capability]));
  args.push('--security-opt', 'no-new-privileges', '--pids-limit', String(input.pidsLimit), '--ulimit', 'nofile=1024:1024');
  // swap capped at the memory limit, so the limit cannot be dodged by swapping
  if (input.memoryMiB !== undefined) args.push('--memory', `${input.memoryMiB}m`, '--memory-swap', `${input.memoryMiB}m`);
  args.push('--hostname', input.name, '--volume', `${input.workspaceHostDir}:${input.workspacePath}:rw`, '--workdir', input.workspacePath);
  for (const [key, value] of Object.entries(input.env)) args.push('--env', `${key}=${value}`);
  args.push(input.image, ...input.command);
  return args;
}
