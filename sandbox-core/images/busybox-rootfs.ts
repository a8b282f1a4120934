/**
 * The root filesystem container backends run: busybox-static with its applet
 * links in /bin and /sbin, the static native agent at /sbin/rigor-agent, a
 * minimal /etc and the empty mount points. /usr stays empty (with /lib and
 * /lib64 pointing into it, as on merged-/usr Debian) so a backend can bind the
 * host's /usr there read-only to run the Node agent. Built once per set of inputs into
 * <cache>/rigor/rootfs/<key>/rootfs (key = hash of busybox, agent and builder
 * version), beside a manifest.json that artifacts can cite. It appears
 * atomically (built in a temp dir, then renamed) and is never written again:
 * sandboxes mount it read-only.
 */
import { createHash } from 'node:crypto';
import { chmod, copyFile, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { nativeAgentPath } from '../agent/build.ts';
import { isStaticElf } from './static-elf.ts';
import { defaultCacheRoot, ensureCachedDir, pathExists, sha256File } from '../../base/cache.ts';

/** Bumped whenever the layout below changes, so old caches are not reused. */
const ROOTFS_BUILDER_VERSION = 1;
export const DEFAULT_BUSYBOX = '/bin/busybox';
/** Where the agent sits inside the rootfs. */
export const AGENT_IN_ROOTFS = '/sbin/rigor-agent';
/** Mount points the backends mount over; they must exist because the rootfs is read-only. */
export const MOUNT_POINTS = ['proc', 'sys', 'dev', 'tmp', 'workspace', 'usr', 'opt/rigor'];

export interface RootfsOptions {
  /** Root of the cache; default $XDG_CACHE_HOME or ~/.cache. */
  cacheRoot?: string;
  /** A static busybox; default /bin/busybox from Debian's busybox-static. */
  busyboxPath?: string;
  /** The static agent; default nativeAgentPath(). */
  agentPath?: string;
}

export interface RootfsManifest {
  builder: { name: 'busybox-rootfs'; version: number };
  key: string;
  built_at: string;
  busybox: { source: string; sha256: string; banner: string; applets: number };
  agent: { source: string; sha256: string; path: string };
}

/** The cache key: what changes the rootfs, hashed. */
export function rootfsKey(inputs: { busyboxSha256: string; agentSha256: string; builderVersion: number }): string {
  const text = JSON.stringify([inputs.builderVersion, inputs.busyboxSha256, inputs.agentSha256]);
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** The manifest written beside a rootfs returned by buildBusyboxRootfs. */
export async function readRootfsManifest(rootfs: string): Promise<RootfsManifest> {
  return JSON.parse(await readFile(join(dirname(rootfs), 'manifest.json'), 'utf8')) as RootfsManifest;
}

/** Path of the read-only rootfs for the current busybox and agent, built if it is not cached. */
export async function buildBusyboxRootfs(options: RootfsOptions = {}): Promise<string> {
  const busybox = options.busyboxPath ?? DEFAULT_BUSYBOX;
  await requireStatic(busybox, 'busybox', 'install busybox-static (apt-get install -y busybox-static)');
  const agent = options.agentPath ?? (await nativeAgentPath());
  await requireStatic(agent, 'agent', 'the rootfs has no libc, so the agent must be linked with -static');
  const [busyboxSha256, agentSha256] = await Promise.all([sha256File(busybox), sha256File(agent)]);
  const key = rootfsKey({ busyboxSha256, agentSha256, builderVersion: ROOTFS_BUILDER_VERSION });
  const parent = join(options.cacheRoot ?? defaultCacheRoot(), 'rigor', 'rootfs');
  const target = await ensureCachedDir(parent, key, async (temp) => {
    const { banner, applets } = await populate(join(temp, 'rootfs'), busybox, agent);
    const manifest: RootfsManifest = {
      builder: { name: 'busybox-rootfs', version: ROOTFS_BUILDER_VERSION },
      key,
      built_at: new Date().toISOString(),
      busybox: { source: busybox, sha256: busyboxSha256, banner, applets },
      agent: { source: agent, sha256: agentSha256, path: AGENT_IN_ROOTFS },
    };
    // written last: a cache dir holding a manifest is complete
    await writeFile(join(temp, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  });
  return join(target, 'rootfs');
}

/** Lays out the tree under `root`; returns busybox's banner and how many applet links were made. */
async function populate(root: string, busybox: string, agent: string): Promise<{ banner: string; applets: number }> {
  for (const dir of ['bin', 'sbin', 'etc', 'root', ...MOUNT_POINTS]) {
    await mkdir(join(root, dir), { recursive: true, mode: 0o755 });
  }
  await chmod(join(root, 'tmp'), 0o1777);
  await copyFile(busybox, join(root, 'bin/busybox'));
  await chmod(join(root, 'bin/busybox'), 0o755);
  await copyFile(agent, join(root, AGENT_IN_ROOTFS.slice(1)));
  await chmod(join(root, AGENT_IN_ROOTFS.slice(1)), 0o755);

  await symlink('usr/lib', join(root, 'lib'));
  await symlink('usr/lib64', join(root, 'lib64'));

  const listed = await execa(busybox, ['--list-full'], { stdin: 'ignore' });
  const links = new Set(listed.stdout.split('\n').filter(Boolean).map((line) => line.replace(/^usr\//, '')));
  links.delete('bin/busybox');
  for (const link of links) await symlink('/bin/busybox', join(root, link));

  await writeFile(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  await writeFile(join(root, 'etc/group'), 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\n');
  await writeFile(join(root, 'etc/hostname'), 'rigor\n');

  // busybox with no applet prints "BusyBox v1.35.0 (Debian ...) multi-call binary." first
  const help = await execa(busybox, [], { stdin: 'ignore', reject: false });
  const banner = `${help.stdout}\n${help.stderr}`.split('\n').find((line) => line.startsWith('BusyBox')) ?? 'unknown';
  return { banner: banner.trim(), applets: links.size };
}

async function requireStatic(path: string, what: string, advice: string): Promise<void> {
  if (!(await pathExists(path))) throw new Error(`${what} not found at ${path}: ${advice}`);
  if (!(await isStaticElf(path))) throw new Error(`${what} at ${path} is not a static executable: ${advice}`);
}


