/**
 * runc forks. The container's root is the shared read-only rootfs and its workspace a private tmpfs: a fork
 * image is that workspace, copied from the host through /proc/<agent pid>/root while the container is
 * frozen (cp -a: a reflink where the image's filesystem clones, which a tmpfs source never allows, else a
 * sparse copy), with manifest.json (the spec a child gets, the workspace path, the parent's host ids that own
 * the files, sizes by allocated blocks). A child is a new container of that spec whose workspace is filled
 * from the image before fromFork returns: GNU tar on the host reads the image, its owners mapped from the
 * parent's host ids to the ids inside (0 and INSIDE_COMMAND_ID), and busybox tar unpacks it as root of the
 * child's user and mount namespaces (nsenter): the child's own host ids own the result, and its writes go
 * to its own tmpfs, never to the image, the parent or a sibling. /tmp (another tmpfs) is not carried.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { INSIDE_COMMAND_ID } from '../../isolation/host-ids.ts';
import { copyForImage, diskUsage, partialDirFor } from '../image-copy.ts';
import { MANIFEST_FILE, manifestHeader, parseManifestWith, savedSpec } from '../snapshot-manifest.ts';
import type { ForkInfo, SandboxSpec } from '../types.ts';

export const RUNC_FORK_FORMAT = 'rigor-runc-fork';
export const RUNC_FORK_VERSION = 1;
export const FORK_MANIFEST = MANIFEST_FILE;
/** The workspace's copy inside the image. */
export const FORK_WORKSPACE = 'workspace';

const manifestSchema = z.object({
  ...manifestHeader(RUNC_FORK_FORMAT, RUNC_FORK_VERSION),
  /** The parent's spec as a child gets it (no egress, no exec policy: host-side hooks are not carried). */
  spec: z.object({
    workspacePath: z.string().startsWith('/'),
    memoryMiB: z.number().int().positive().optional(),
    pidsLimit: z.number().int().positive().optional(),
    workspaceMiB: z.number().int().positive().optional(),
    seccomp: z.enum(['default', 'unconfined']).optional(),
    allowSyscalls: z.array(z.string()).optional(),
    capabilities: z.array(z.string()).optional(),
    env: z.record(z.string(), z.string()).optional(),
    agent: z.enum(['native', 'node']).optional(),
  }),
  /** Host uids that owned the parent's files: its agent (root inside) and its commands (INSIDE_COMMAND_ID). */
  owners: z.object({ agent: z.number().int().nonnegative(), command: z.number().int().nonnegative() }),
  copy: z.enum(['reflink', 'copy']),
  files: z.object({ workspace: z.object({ bytes: z.number().int().nonnegative(), allocated_bytes: z.number().int().nonnegative() }) }),
});
export type RuncForkManifest = z.infer<typeof manifestSchema>;

/** What a fork needs of the running container. */
export interface ForkSource {
  id: string;
  spec: SandboxSpec;
  workspacePath: string;
  /** The container's pid 1 on the host; throws when the sandbox is destroyed. */
  initPid(): number;
  owners: { agent: number; command: number };
  paused: boolean;
  pause(): Promise<void>;
  resume(): Promise<void>;
}

/** The container's pid 1 as runc's state.json records it. */
export function initPidFrom(stateDir: string, id: string): number {
  const file = join(stateDir, id, 'state.json');
  const pid = (JSON.parse(readFileSync(file, 'utf8')) as { init_process_pid?: unknown }).init_process_pid;
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0) throw new Error(`${file}: init_process_pid: expected a pid, found ${JSON.stringify(pid)}`);
  return pid;
}

/** Writes a fork image of `source` into `dir` (a temp dir beside it, renamed when whole; removed on any failure). */
export async function writeForkImage(source: ForkSource, dir: string): Promise<ForkInfo> {
  const t0 = performance.now();
  const pid = source.initPid();
  if (source.spec.egress) throw new Error(`${source.id}: fork: a sandbox with egress is not forked (its relays' sockets are bound to the parent)`);
  const partial = await partialDirFor(dir, 'fork');
  const wasPaused = source.paused;
  // A pause that fails leaves no partial directory either.
  await source.pause().catch(async (error: unknown) => {
    await rm(partial, { recursive: true, force: true });
    throw error;
  });
  try {
    const copy = await copyForImage(join(`/proc/${pid}/root`, source.workspacePath), join(partial, FORK_WORKSPACE), { tree: true });
    const usage = await diskUsage(join(partial, FORK_WORKSPACE));
    const { spec } = source;
    const manifest: RuncForkManifest = {
      format: RUNC_FORK_FORMAT,
      version: RUNC_FORK_VERSION,
      saved_at: new Date().toISOString(),
      spec: {
        workspacePath: source.workspacePath,
        ...savedSpec(spec, ['memoryMiB', 'pidsLimit', 'workspaceMiB', 'seccomp', 'allowSyscalls', 'capabilities', 'env', 'agent']),
      },
      owners: source.owners,
      copy,
      files: { workspace: { bytes: usage.bytes, allocated_bytes: usage.allocatedBytes } },
    };
    const text = `${JSON.stringify(manifest, null, 2)}\n`;
    await writeFile(join(partial, FORK_MANIFEST), text, { flag: 'wx', mode: 0o600 });
    // the image's blocks: the workspace's, counted above, and those of the manifest and the directory itself
    const [top, written] = await Promise.all([stat(partial), stat(join(partial, FORK_MANIFEST))]);
    await rename(partial, dir);
    return {
      dir,
      forkMs: performance.now() - t0,
      bytes: usage.bytes + Buffer.byteLength(text),
      allocatedBytes: usage.allocatedBytes + (top.blocks + written.blocks) * 512,
      copy,
      holds: `the workspace (${source.workspacePath}); the root is the shared read-only rootfs, /tmp is not carried`,
    };
  } catch (error) {
    await rm(partial, { recursive: true, force: true });
    throw new Error(`${source.id}: fork to ${dir} failed, nothing was written there: ${(error as Error).message}`);
  } finally {
    if (!wasPaused) await source.resume();
  }
}

/** The manifest of the fork image in `dir`, checked field by field; errors name the file, the field, what was expected and found. */
export async function readForkImage(dir: string): Promise<RuncForkManifest> {
  const file = join(dir, FORK_MANIFEST);
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new Error(error.code === 'ENOENT' ? `fork image ${dir}: no ${FORK_MANIFEST} (not a fork image, or one whose fork did not finish)` : `${file}: ${error.message}`);
  });
  const manifest = parseManifestWith(manifestSchema, text, file, 'fork image');
  if (!existsSync(join(dir, FORK_WORKSPACE))) throw new Error(`fork image ${dir}: no ${FORK_WORKSPACE} directory beside ${FORK_MANIFEST}: the image is damaged`);
  return manifest;
}

/** Runs `from` piped into `to`; rejects naming whichever failed, with its stderr. */
function pipeline(from: string[], to: string[]): Promise<void> {
  const run = (argv: string[]) => spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
  const producer = run(from);
  const consumer = run(to);
  producer.stdout.pipe(consumer.stdin);
  producer.stdin.end();
  consumer.stdout.resume();
  const finished = (child: ReturnType<typeof run>, argv: string[]) =>
    new Promise<void>((resolve, reject) => {
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      child.once('error', (error) => reject(new Error(`${argv[0]}: ${error.message}`)));
      child.once('close', (code, signal) => (code === 0 ? resolve() : reject(new Error(`${argv.join(' ')} ended with ${signal ?? `code ${code}`}: ${stderr.trim()}`))));
    });
  return Promise.all([finished(producer, from), finished(consumer, to)]).then(() => undefined);
}

/**
 * Fills the workspace of the container whose pid 1 is `pid` (a child just created with the image's spec,
 * whose host ids are not the parent's) from the image in `dir`.
 */
export async function fillWorkspace(dir: string, manifest: RuncForkManifest, pid: number, scratch: string): Promise<void> {
  const map = join(scratch, 'fork-owner-map');
  await writeFile(map, `+${manifest.owners.agent} +0\n+${manifest.owners.command} +${INSIDE_COMMAND_ID}\n`, { mode: 0o600 });
  await pipeline(
    ['tar', '-C', join(dir, FORK_WORKSPACE), '--numeric-owner', `--owner-map=${map}`, `--group-map=${map}`, '-cf', '-', '.'],
    // root of the child's user namespace (nsenter sets uid and gid 0 there) in its mount namespace: the child's busybox tar
    ['nsenter', '-t', String(pid), '-U', '-m', '--', 'tar', '-xf', '-', '-C', manifest.spec.workspacePath],
  );
}
