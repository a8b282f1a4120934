/**
 * The qemu guest's boot image, built from the host's own files: the kernel
 * stays where its package put it (/boot/vmlinuz-<version>) or where the
 * project's kernel build put it (kernel/build.ts:
 * <cache>/rigor/kernel-build/<key>/vmlinuz-<release>); beside it the project
 * builds
 *
 * - an initramfs (cpio newc): static busybox, the agent (for `--now` stage
 *   stamps), the virtio and squashfs modules of that kernel in load order
 *   (none for the project's kernel: everything is built in),
 *   /dev/console and /init (guest/init-script.ts);
 * - a read-only root image: the busybox rootfs (busybox-rootfs.ts: busybox,
 *   the static agent, a minimal /etc, mount points) as squashfs.
 *
 * Both land in <cache>/rigor/guest/<key>/ (key = hash of kernel, modules,
 * busybox, agent, init script and builder version) beside manifest.json,
 * built in a temp dir and renamed into place, never written again: every
 * sandbox reads the same files. The kernel is booted as the uncompressed ELF
 * inside the bzImage where it can be had (guest/vmlinux.ts), cached by the
 * bzImage's hash in <cache>/rigor/kernel/.
 *
 * A kernel's version is always read from its file name (vmlinuz-<version>).
 * Whether it has modules to load is read from beside it: a kernel-build
 * manifest (kernel/build-manifest.ts) marks the project's kernel, which has
 * none and needs no /lib/modules tree; any other kernel loads its modules
 * from <modulesRoot>/<version>.
 */
import { createHash } from 'node:crypto';
import { access, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';
import { kernelBuildOf, type KernelBuildManifest } from '../../kernel/build-manifest.ts';
import { cacheEntryPath, defaultCacheRoot, ensureCached, ensureCachedDir, pathExists, sha256File } from '../../base/cache.ts';
import { nativeAgentPath } from '../agent/build.ts';
import { buildBusyboxRootfs, DEFAULT_BUSYBOX, readRootfsManifest } from './busybox-rootfs.ts';
import { cpioNewc, type CpioEntry } from './guest/cpio.ts';
import { INITRAMFS_AGENT, INITRAMFS_MODULES_DIR, initScript, type VirtioBus } from './guest/init-script.ts';
import { moduleLoadOrder, readModule, readModuleIndex } from './guest/kernel-modules.ts';
import { extractVmlinux } from './guest/vmlinux.ts';
import { isStaticElf } from './static-elf.ts';

/** Bumped whenever the layout or the build steps change, so old caches are not reused. */
export const GUEST_IMAGE_BUILDER_VERSION = 2;
export const DEFAULT_BOOT_DIR = '/boot';
export const DEFAULT_MODULES_ROOT = '/lib/modules';

/** Modules every guest loads, and those that find the virtio devices on each bus. */
const COMMON_MODULES = ['virtio_blk', 'virtio_console', 'squashfs'];
const BUS_MODULES: Record<VirtioBus, string[]> = { mmio: ['virtio_mmio'], pci: ['virtio_pci'] };
/** Loaded only by guests with egress (rigor.net=1). */
const NET_MODULES = ['virtio_net'];
/** Applets /init calls by name. */
const INIT_APPLETS = ['sh', 'mount', 'insmod', 'ip', 'switch_root', 'poweroff'];

export type InitramfsCompression = 'gzip' | 'none';
export type SquashfsCompression = 'lz4' | 'gzip' | 'none';

export interface GuestImageOptions {
  /** Root of the cache; default $XDG_CACHE_HOME or ~/.cache. */
  cacheRoot?: string;
  /**
   * The guest kernel, a file named vmlinuz-<version>; default the newest /boot/vmlinuz-* whose modules are
   * installed, cloud flavour first. The project's kernel (kernel/build.ts: buildKernel().image) has no modules.
   */
  kernel?: string;
  /** Where /lib/modules/<version> trees live; default /lib/modules. */
  modulesRoot?: string;
  busyboxPath?: string;
  agentPath?: string;
  /** Default 'none': under TCG gzip reached /init about 30 ms later and saved 4 MiB of PSS per guest (3.4 MB vs 1.6 MB file). */
  initramfsCompression?: InitramfsCompression;
  /** Default 'none': lz4 (2.0 MB vs 2.9 MB) made no difference beyond noise under TCG, and costs emulated CPU on every read. */
  squashfsCompression?: SquashfsCompression;
}

export interface GuestImageManifest {
  builder: { name: 'guest-image'; version: number };
  key: string;
  built_at: string;
  kernel: {
    path: string;
    version: string;
    sha256: string;
    /** The project's kernel: what its build manifest says (absent for a packaged kernel). */
    build?: Pick<KernelBuildManifest, 'key' | 'source_version' | 'kernel_release' | 'config_sha256' | 'patches'>;
  };
  /** Per bus: what every guest loads, then what a guest with egress loads after it; empty lists when everything is built in. */
  modules: Record<VirtioBus, { base: string[]; net: string[] }>;
  busybox: { source: string; sha256: string };
  agent: { source: string; sha256: string };
  rootfs_key: string;
  initramfs: { file: string; compression: InitramfsCompression; bytes: number };
  root_image: { file: string; format: 'squashfs'; compression: SquashfsCompression; bytes: number };
}

/** The file qemu's -kernel loads. */
export interface BootKernel {
  file: string;
  /** 'pvh-elf': the uncompressed kernel entered at its PVH entry; 'bzimage': the package's file, which decompresses itself. */
  format: 'pvh-elf' | 'bzimage';
  /** Why the bzImage is booted as it is, when it is. */
  reason?: string;
}

export interface GuestImage {
  dir: string;
  /** The kernel package's file (/boot/vmlinuz-<version>). */
  kernel: string;
  boot: BootKernel;
  initramfs: string;
  rootImage: string;
  manifest: GuestImageManifest;
}

/** The kernel version a vmlinuz file is named for ("vmlinuz-6.1.0-56-cloud-amd64" → "6.1.0-56-cloud-amd64"). */
export function kernelVersionOf(kernel: string): string {
  const name = basename(kernel);
  if (!name.startsWith('vmlinuz-') || name.length === 'vmlinuz-'.length) {
    throw new Error(`guest kernel ${kernel}: expected a file named vmlinuz-<version> so its modules can be found in /lib/modules/<version>`);
  }
  return name.slice('vmlinuz-'.length);
}

/** The newest readable /boot/vmlinuz-* with a modules.dep, cloud flavour first; throws saying what to install. */
export async function defaultGuestKernel(bootDir = DEFAULT_BOOT_DIR, modulesRoot = DEFAULT_MODULES_ROOT): Promise<string> {
  const names = (await readdir(bootDir).catch(() => [] as string[])).filter((name) => name.startsWith('vmlinuz-'));
  names.sort((a, b) => Number(b.includes('-cloud-')) - Number(a.includes('-cloud-')) || b.localeCompare(a, 'en', { numeric: true }));
  for (const name of names) {
    const kernel = join(bootDir, name);
    const usable = await Promise.all([access(kernel), access(join(modulesRoot, kernelVersionOf(kernel), 'modules.dep'))]).then(
      () => true,
      () => false,
    );
    if (usable) return kernel;
  }
  throw new Error(`no guest kernel: no readable ${bootDir}/vmlinuz-* with its modules in ${modulesRoot} (apt-get install linux-image-cloud-amd64)`);
}

/** Paths of the guest image for these options, built into the cache first if it is not there. */
export async function buildGuestImage(options: GuestImageOptions = {}): Promise<GuestImage> {
  const cacheRoot = options.cacheRoot ?? defaultCacheRoot();
  const modulesRoot = options.modulesRoot ?? DEFAULT_MODULES_ROOT;
  const kernel = options.kernel ?? (await defaultGuestKernel(DEFAULT_BOOT_DIR, modulesRoot));
  const kernelVersion = kernelVersionOf(kernel);
  const busybox = options.busyboxPath ?? DEFAULT_BUSYBOX;
  const agent = options.agentPath ?? (await nativeAgentPath());
  const initramfsCompression = options.initramfsCompression ?? 'none';
  const squashfsCompression = options.squashfsCompression ?? 'none';

  const rootfs = await buildBusyboxRootfs({ cacheRoot, busyboxPath: busybox, agentPath: agent });
  const kernelBuild = await kernelBuildOf(kernel);
  if (kernelBuild && kernelBuild.kernel_release !== kernelVersion) {
    throw new Error(`guest kernel ${kernel}: its build manifest says release ${kernelBuild.kernel_release}, its name says ${kernelVersion}`);
  }
  const order = kernelBuild ? { mmio: { base: [], net: [] }, pci: { base: [], net: [] } } : await moduleOrder(join(modulesRoot, kernelVersion), kernelVersion);
  const modulePaths = [...new Set([order.mmio, order.pci].flatMap((bus) => [...bus.base, ...bus.net]))];
  const moduleFiles = new Map(await Promise.all(modulePaths.map(async (path) => [path, await readModule(join(modulesRoot, kernelVersion, path))] as const)));
  const fileName = (path: string): string => basename(path).replace(/\.(gz|xz|zst)$/, '');
  const names = (bus: { base: string[]; net: string[] }) => ({ base: bus.base.map(fileName), net: bus.net.map(fileName) });
  const init = initScript({ mmio: names(order.mmio), pci: names(order.pci) });
  const [kernelSha, busyboxSha, agentSha, rootfsManifest] = await Promise.all([sha256File(kernel), sha256File(busybox), sha256File(agent), readRootfsManifest(rootfs)]);

  const keyInputs = [
    GUEST_IMAGE_BUILDER_VERSION,
    kernelVersion,
    kernelSha,
    [...moduleFiles].map(([path, data]) => [path, sha256(data)]),
    busyboxSha,
    agentSha,
    rootfsManifest.key,
    init,
    initramfsCompression,
    squashfsCompression,
    // reproducible builds of different inputs (a comment edited in a fragment) give the same bzImage: the manifest must name the right build
    ...(kernelBuild ? [buildFacts(kernelBuild)] : []),
  ];
  const key = createHash('sha256').update(JSON.stringify(keyInputs)).digest('hex').slice(0, 16);
  const parent = join(cacheRoot, 'rigor', 'guest');
  const target = join(parent, key);
  const initramfsFile = initramfsCompression === 'gzip' ? 'initramfs.cpio.gz' : 'initramfs.cpio';
  const image = async (): Promise<GuestImage> => {
    const manifest = JSON.parse(await readFile(join(target, 'manifest.json'), 'utf8')) as GuestImageManifest;
    const boot = await bootKernel(kernel, kernelSha, cacheRoot);
    return { dir: target, kernel, boot, initramfs: join(target, manifest.initramfs.file), rootImage: join(target, manifest.root_image.file), manifest };
  };
  if (await pathExists(join(target, 'manifest.json'))) return image();

  if (!(await isStaticElf(busybox))) throw new Error(`busybox at ${busybox} is not a static executable: install busybox-static (apt-get install -y busybox-static)`);
  if (!(await isStaticElf(agent))) throw new Error(`agent at ${agent} is not a static executable: the initramfs has no libc`);
  await ensureCachedDir(parent, key, async (temp) => {
    const entries: CpioEntry[] = [
      ...['bin', 'dev', 'lib', 'lib/modules', 'newroot', 'proc', 'sys'].map((path) => ({ kind: 'dir' as const, path })),
      { kind: 'char', path: 'dev/console', major: 5, minor: 1 },
      { kind: 'file', path: 'bin/busybox', data: await readFile(busybox), mode: 0o755 },
      ...INIT_APPLETS.map((applet) => ({ kind: 'symlink' as const, path: `bin/${applet}`, target: 'busybox' })),
      { kind: 'file', path: INITRAMFS_AGENT, data: await readFile(agent), mode: 0o755 },
      ...[...moduleFiles].map(([path, data]) => ({ kind: 'file' as const, path: `${INITRAMFS_MODULES_DIR}/${fileName(path)}`, data })),
      { kind: 'file', path: 'init', data: Buffer.from(init), mode: 0o755 },
    ];
    const cpio = cpioNewc(entries);
    const initramfs = initramfsCompression === 'gzip' ? gzipSync(cpio, { level: 9 }) : cpio;
    await writeFile(join(temp, initramfsFile), initramfs);
    await makeSquashfs(rootfs, join(temp, 'root.squashfs'), squashfsCompression);
    const manifest: GuestImageManifest = {
      builder: { name: 'guest-image', version: GUEST_IMAGE_BUILDER_VERSION },
      key,
      built_at: new Date().toISOString(),
      kernel: { path: kernel, version: kernelVersion, sha256: kernelSha, ...(kernelBuild ? { build: buildFacts(kernelBuild) } : {}) },
      modules: order,
      busybox: { source: busybox, sha256: busyboxSha },
      agent: { source: agent, sha256: agentSha },
      rootfs_key: rootfsManifest.key,
      initramfs: { file: initramfsFile, compression: initramfsCompression, bytes: initramfs.length },
      root_image: { file: 'root.squashfs', format: 'squashfs', compression: squashfsCompression, bytes: (await stat(join(temp, 'root.squashfs'))).size },
    };
    // written last: a cache dir holding a manifest is complete
    await writeFile(join(temp, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  });
  return image();
}

/** Per bus, the module files (relative to `modulesDir`) /init loads, from the kernel's modules.dep. */
async function moduleOrder(modulesDir: string, kernelVersion: string): Promise<Record<VirtioBus, { base: string[]; net: string[] }>> {
  const index = await readModuleIndex(modulesDir, kernelVersion);
  const loadOrder = (bus: VirtioBus): { base: string[]; net: string[] } => {
    const base = moduleLoadOrder(index, [...BUS_MODULES[bus], ...COMMON_MODULES], kernelVersion);
    const all = moduleLoadOrder(index, [...BUS_MODULES[bus], ...COMMON_MODULES, ...NET_MODULES], kernelVersion);
    return { base, net: all.filter((path) => !base.includes(path)) };
  };
  return { mmio: loadOrder('mmio'), pci: loadOrder('pci') };
}

/** What an artifact needs to name the project's kernel. */
function buildFacts(manifest: KernelBuildManifest): NonNullable<GuestImageManifest['kernel']['build']> {
  const { key, source_version, kernel_release, config_sha256, patches } = manifest;
  return { key, source_version, kernel_release, config_sha256, patches };
}

/** The kernel's ELF with a PVH entry, extracted once per bzImage; the bzImage itself when that cannot be done. */
async function bootKernel(kernel: string, kernelSha: string, cacheRoot: string): Promise<BootKernel> {
  const target = cacheEntryPath(cacheRoot, 'kernel', [kernelSha], 'vmlinux');
  let reason: string | undefined;
  try {
    await ensureCached(target, async (temp) => {
      const result = await extractVmlinux(await readFile(kernel));
      if (!result.ok) throw new Error(result.reason);
      await writeFile(temp, result.elf);
    });
    return { file: target, format: 'pvh-elf' };
  } catch (error) {
    reason = (error as Error).message;
  }
  return { file: kernel, format: 'bzimage', reason: `booting ${kernel} as it is (slower under TCG): ${reason}` };
}

/** Reproducible: every file owned by root, every timestamp 0. */
async function makeSquashfs(rootfs: string, output: string, compression: SquashfsCompression): Promise<void> {
  const comp = compression === 'none' ? ['-noI', '-noD', '-noF', '-noX'] : ['-comp', compression];
  try {
    await execa('mksquashfs', [rootfs, output, '-noappend', '-all-root', '-quiet', '-no-progress', '-mkfs-time', '0', '-all-time', '0', ...comp], { stdin: 'ignore' });
  } catch (error) {
    const { code, stderr } = error as { code?: string; stderr?: string };
    if (code === 'ENOENT') throw new Error('mksquashfs not found: install squashfs-tools (apt-get install -y squashfs-tools)');
    throw new Error(`mksquashfs ${rootfs} failed: ${String(stderr ?? (error as Error).message).trim()}`);
  }
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}


