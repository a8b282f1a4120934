/**
 * The `qemu` backend: a real Linux guest per sandbox. The project's kernel
 * (kernel/, built from Debian's source on first use) or Debian's cloud kernel
 * from /boot, with a command-line preset (kernel/cmdline); an initramfs and a
 * read-only squashfs root the project builds (images/guest-image.ts), a tmpfs
 * workspace inside the guest, no network device unless the spec asks for
 * egress (qemu-args.ts), the agent as PID 1 over virtio-serial. KVM when the
 * boot probe (runner/host/kvm.ts) says it is usable, TCG otherwise; each
 * sandbox says which in `accel`.
 *
 * Egress costs the host a process per guest connection: qemu starts
 * `rigor-agent --relay` for each connection to 10.0.2.100:3128 or :53. A
 * guest has at most 32 of them at once (DEFAULT_MAX_RELAYS in qemu/sandbox.ts;
 * spec.egress.maxRelays, 1 to 1024, for another cap), proxy and resolver
 * together: each relay holds one of the sandbox's slots (a flock) while it
 * lives, and one that finds none free closes its connection at once, before
 * any byte reaches the proxy. Each refusal is handed to
 * spec.egress.onRelayRefused as an audit record (http or dns, block).
 *
 * Choices, measured under TCG on the 2-core dev box with Debian's kernel
 * (medians of 4-8 boots; launch → ready about 1.3 s; the project's kernel
 * reaches ready in about 0.5 s, see the kernel-boot rig):
 * - machine `microvm` (virtio-mmio, no PCI scan, no SeaBIOS): ready 1.28 s
 *   against 1.47 s for `pc`, whose modules alone take 0.28 s to load;
 * - the kernel booted as the ELF inside the bzImage through its PVH entry:
 *   ready 1.24 s against 1.42 s for the bzImage, same PSS;
 * - `tsc_early_khz` under TCG (qemu/tsc.ts): without it 1 boot in 2 hung
 *   with both cores busy; with it 6 of 6 booted;
 * - the workspace is a tmpfs inside the guest: an ext4 image on a second
 *   virtio disk costs an mkfs per sandbox on the host (3 ms) and an ext4
 *   mount in the guest (22-34 ms, against 6-9 ms for the tmpfs);
 * - guest RAM in shmem (4 KiB pages: a memfd, now a file on /dev/shm so a
 *   snapshot can copy it; sandbox-core/README.md): qemu's default anonymous RAM is
 *   marked for transparent huge pages, where a page the guest touches can
 *   cost 2 MiB of host memory (3 MiB more PSS at idle here, more as it runs).
 * Memory with Debian's kernel: about 225 MiB PSS per idle 256 MiB guest, of
 * which ~93 MiB is guest RAM the boot touched, 46 MiB qemu's copy of the
 * kernel, 43 MiB TCG's translated code (the project's kernel: 106 MiB, the
 * kernel-size rig).
 */
import { execFile } from 'node:child_process';
import { access, constants, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { probeKvm } from '../kvm/probe.ts';
import { which } from '../../base/which.ts';
import { buildKernel, kernelBuildBlocker } from '../../kernel/build.ts';
import { presetWords, readCmdlinePreset } from '../../kernel/cmdline.ts';
import { nativeAgentPath } from '../agent/build.ts';
import { checkEgressSockets } from './egress-env.ts';
import { buildGuestImage, defaultGuestKernel, type GuestImageOptions } from '../images/guest-image.ts';
import { GUEST_WORKSPACE } from '../images/guest/init-script.ts';
import { cacheUntilFailure } from './cache-until-failure.ts';
import { capabilityNumbers } from '../isolation/capabilities.ts';
import { MACHINES, MAX_RELAY_CAP, type Accel, type Machine } from './qemu/qemu-args.ts';
import { MIN_MEMORY_MIB, QemuSandbox, type QemuLaunch, type RestoreFrom } from './qemu/sandbox.ts';
import { qemuManifestSchema, RAM_FILE, restoreMismatch, STATE_FILE, type SnapshotManifest } from './qemu/snapshot-manifest.ts';
import { MANIFEST_FILE, readManifest } from './snapshot-manifest.ts';
import { createHash } from 'node:crypto';
import { readHostTscKhz } from './qemu/tsc.ts';
import { limitsOf } from '../isolation/limits.ts';
import type { Backend, RestoreOptions, Sandbox, SandboxSpec } from './types.ts';

const QEMU_BINARY = 'qemu-system-x86_64';
const SETPRIV_PATHS = ['/usr/bin/setpriv', '/bin/setpriv'];

/** Which guest kernel: the project's own (kernel/, built on first use) or Debian's cloud kernel from /boot. */
export type GuestKernel = 'rigor' | 'debian-cloud';
export const GUEST_KERNELS: readonly GuestKernel[] = ['rigor', 'debian-cloud'];
/** The kernel command-line preset (kernel/cmdline/<name>.txt) a guest boots with unless told otherwise. */
export const DEFAULT_CMDLINE_PRESET = 'best';

export interface QemuBackendOptions {
  /** Default 'rigor'; `image.kernel`, when given, names the kernel file instead. */
  kernel?: GuestKernel;
  /** A preset in kernel/cmdline (none, quiet, i8042, best, ...); default 'best'. */
  cmdline?: string;
  image?: GuestImageOptions;
  /** Default 'microvm'; 'pc' under TCG when the host's TSC rate is unknown (qemu/tsc.ts). */
  machine?: Machine;
  /** Force an accelerator instead of asking the KVM probe. */
  accel?: Accel;
}

type Availability = { ok: true } | { ok: false; reason: string };

/** `qemu-system-x86_64 --version`'s first line ("QEMU emulator version 7.2.22 (Debian ...)"), once per process. */
const qemuVersion = cacheUntilFailure(async () => {
  const { stdout } = await promisify(execFile)(QEMU_BINARY, ['--version']);
  return stdout.split('\n')[0]!.trim();
});

/** The snapshot in `dir`: its manifest, read and checked, and its device state, checked against it; errors name the file. */
async function readSnapshot(dir: string): Promise<{ manifest: SnapshotManifest; state: Buffer }> {
  const manifest = await readManifest(dir, qemuManifestSchema);
  const stateFile = join(dir, STATE_FILE);
  const state = await readFile(stateFile).catch((error: Error) => {
    throw new Error(`snapshot ${dir}: ${STATE_FILE}: ${error.message}`);
  });
  const sha256 = createHash('sha256').update(state).digest('hex');
  if (state.length !== manifest.files.state.bytes || sha256 !== manifest.files.state.sha256) {
    throw new Error(`${stateFile}: ${state.length} bytes with sha256 ${sha256.slice(0, 12)}…, ${MANIFEST_FILE} says ${manifest.files.state.bytes} bytes with ${manifest.files.state.sha256.slice(0, 12)}…: the file is damaged`);
  }
  const ramFile = join(dir, RAM_FILE);
  const ram = await stat(ramFile).catch((error: Error) => {
    throw new Error(`snapshot ${dir}: ${RAM_FILE}: ${error.message}`);
  });
  if (ram.size !== manifest.files.ram.bytes) throw new Error(`${ramFile}: ${ram.size} bytes, ${MANIFEST_FILE} says ${manifest.files.ram.bytes}: the file is damaged or cut short`);
  return { manifest, state };
}

/** What the spec asks that a guest cannot give; throws naming the field. */
function checkSpec(spec: SandboxSpec): void {
  if (spec.agent !== undefined && spec.agent !== 'native') {
    throw new Error(`sandbox spec agent: the qemu backend runs the native agent as the guest's PID 1 (its image holds no Node), found ${JSON.stringify(spec.agent)}`);
  }
  if (spec.workspacePath !== undefined && spec.workspacePath !== GUEST_WORKSPACE) {
    throw new Error(`sandbox spec workspacePath: the qemu guest's root image is read-only with one workspace mount point, ${GUEST_WORKSPACE}; found ${JSON.stringify(spec.workspacePath)}`);
  }
  if (spec.memoryMiB !== undefined && !(Number.isInteger(spec.memoryMiB) && spec.memoryMiB >= MIN_MEMORY_MIB)) {
    throw new Error(`sandbox spec memoryMiB: the qemu guest needs a whole number of at least ${MIN_MEMORY_MIB} MiB to boot, found ${JSON.stringify(spec.memoryMiB)}`);
  }
  if (spec.network !== undefined && spec.network !== 'none') {
    throw new Error(`sandbox spec network: the qemu backend gives a guest no network device (only 'none'), found ${JSON.stringify(spec.network)}`);
  }
  limitsOf(spec); // a malformed pidsLimit or workspaceMiB is refused here too, though the guest's kernel bounds them
  if (spec.egress) checkEgressSockets(spec.egress);
  const cap = spec.egress?.maxRelays;
  if (cap !== undefined && !(Number.isInteger(cap) && cap >= 1 && cap <= MAX_RELAY_CAP)) {
    throw new Error(`sandbox spec egress.maxRelays: expected a whole number of host relays from 1 to ${MAX_RELAY_CAP}, found ${JSON.stringify(cap)}`);
  }
}

async function firstExecutable(paths: string[]): Promise<string | undefined> {
  for (const path of paths) {
    if (await access(path, constants.X_OK).then(() => true, () => false)) return path;
  }
  return undefined;
}

/**
 * The project's kernel, built (minutes, progress on stderr) or found in the
 * cache once per process for every QemuBackend; the first caller's signal
 * stops the build (Ctrl-C), and a failed or stopped build is tried again by
 * the next caller.
 */
const sharedKernelBuild = cacheUntilFailure((signal?: AbortSignal) => buildKernel({ signal }));

/** The options a rig cell may set on the qemu backend (each distinct set is a backend of its own, one image cache each). */
const VARIANT_OPTIONS = ['kernel', 'machine', 'cmdline'] as const;
const variants = new Map<string, QemuBackend>();

export class QemuBackend implements Backend {
  readonly name = 'qemu';
  readonly usesKvm = true;
  readonly variantOptions = VARIANT_OPTIONS;
  /** Built (or found in the cache) once per process; a failed build is retried by the next create(). */
  readonly #cachedImage = cacheUntilFailure(async (signal?: AbortSignal) => {
    if (this.options.image?.kernel || this.#kernel === 'debian-cloud') return buildGuestImage(this.options.image);
    const build = await sharedKernelBuild(signal);
    return buildGuestImage({ ...this.options.image, kernel: build.image });
  });
  readonly #cachedPreset = cacheUntilFailure(() => readCmdlinePreset(this.options.cmdline ?? DEFAULT_CMDLINE_PRESET));
  readonly #probedAccel = cacheUntilFailure(() =>
    probeKvm().then((kvm) => ({ accel: kvm.status === 'usable' ? ('kvm' as Accel) : ('tcg' as Accel), reason: `KVM ${kvm.status}: ${kvm.reason}` })),
  );

  constructor(private readonly options: QemuBackendOptions = {}) {}

  variantProblems(options: Record<string, unknown>): string[] {
    const problems: string[] = [];
    const { kernel, machine, cmdline } = options;
    if (kernel !== undefined && !GUEST_KERNELS.includes(kernel as GuestKernel)) problems.push(`kernel: expected one of ${GUEST_KERNELS.join(', ')}, found ${JSON.stringify(kernel)}`);
    if (machine !== undefined && !MACHINES.includes(machine as Machine)) problems.push(`machine: expected one of ${MACHINES.join(', ')}, found ${JSON.stringify(machine)}`);
    if (cmdline !== undefined && !(typeof cmdline === 'string' && /^[a-z0-9-]+$/.test(cmdline))) {
      problems.push(`cmdline: expected the name of a preset in kernel/cmdline (like best), found ${JSON.stringify(cmdline)}`);
    }
    return problems;
  }

  /** This backend booting another kernel, machine or preset; the same options give the same backend. */
  variant(options: Record<string, unknown>): Backend {
    const picked = { kernel: options.kernel as GuestKernel | undefined, machine: options.machine as Machine | undefined, cmdline: options.cmdline as string | undefined };
    const key = JSON.stringify(picked);
    let backend = variants.get(key);
    if (!backend) variants.set(key, (backend = new QemuBackend({ ...this.options, ...picked })));
    return backend;
  }

  get #kernel(): GuestKernel {
    return this.options.kernel ?? 'rigor';
  }

  async available(): Promise<Availability> {
    if (process.arch !== 'x64') return { ok: false, reason: `the qemu backend boots x86_64 guests with the host's kernel; this host is ${process.arch}` };
    if (!which(QEMU_BINARY)) return { ok: false, reason: `${QEMU_BINARY} not on PATH (apt-get install qemu-system-x86)` };
    if (!which('mksquashfs')) return { ok: false, reason: 'mksquashfs not on PATH (apt-get install squashfs-tools)' };
    if (!(await firstExecutable(SETPRIV_PATHS))) return { ok: false, reason: 'setpriv not found (util-linux)' };
    if (this.options.image?.kernel) return { ok: true };
    if (this.#kernel === 'rigor') {
      const blocker = await kernelBuildBlocker();
      return blocker ? { ok: false, reason: `the project's guest kernel cannot be built here (${blocker}); or choose kernel: debian-cloud` } : { ok: true };
    }
    try {
      await defaultGuestKernel();
    } catch (error) {
      return { ok: false, reason: (error as Error).message };
    }
    return { ok: true };
  }

  /**
   * Builds what create() needs and caches it (the project's kernel, minutes
   * the first time; the guest image; the preset), so that a workload can do
   * it before its timed samples. create() does the same when not done yet.
   */
  async prepare(signal?: AbortSignal): Promise<void> {
    await Promise.all([this.#cachedImage(signal), this.#cachedPreset()]);
  }

  async create(spec: SandboxSpec = {}, options: { signal?: AbortSignal } = {}): Promise<Sandbox> {
    checkSpec(spec);
    const execCaps = capabilityNumbers(spec.capabilities ?? []);
    const sandbox = new QemuSandbox(spec);
    const t0 = performance.now();
    await sandbox.start(async () => {
      const [image, accel, setpriv, relay, preset, version] = await Promise.all([
        this.#cachedImage(options.signal),
        this.#cachedAccel(),
        firstExecutable(SETPRIV_PATHS),
        nativeAgentPath(),
        this.#cachedPreset(),
        qemuVersion(),
      ]);
      if (!setpriv) throw new Error('setpriv not found (util-linux): qemu must run under --pdeathsig KILL');
      const tscKhz = accel.accel === 'tcg' ? readHostTscKhz() : null;
      const launch: QemuLaunch = {
        qemu: QEMU_BINARY,
        setpriv,
        image,
        // microvm has no HPET or PM timer: a TCG guest that must calibrate its TSC gets pc's (see qemu/tsc.ts).
        machine: this.options.machine ?? (accel.accel === 'tcg' && tscKhz === null ? 'pc' : 'microvm'),
        accel: accel.accel,
        accelReason: accel.reason,
        execCaps,
        tscKhz,
        preparedMs: performance.now() - t0,
        relay,
        cmdline: { preset: preset.name, words: presetWords(preset) },
        qemuVersion: version,
      };
      return launch;
    }, options.signal);
    return sandbox;
  }

  /** Snapshots need qemu to answer --version (recorded in each, checked at restore); egress guests are not saved. */
  async snapshotSupport(): Promise<Availability> {
    const available = await this.available();
    if (!available.ok) return available;
    return qemuVersion().then(
      () => ({ ok: true }) as const,
      (error: Error) => ({ ok: false, reason: `${QEMU_BINARY} --version failed: ${error.message}` }),
    );
  }

  /**
   * A guest restored from a snapshot dir (QemuSandbox.snapshot): the same qemu, kernel, image and
   * accelerator or a clear refusal before anything starts; its RAM a copy of the snapshot's, its device
   * state loaded through qemu's migration stream, then RESEED (fresh entropy, the host's time) and a PING.
   */
  async restore(dir: string, options: RestoreOptions = {}): Promise<Sandbox> {
    const { manifest, state } = await readSnapshot(dir);
    const [image, accel, version] = await Promise.all([this.#cachedImage(options.signal), this.#cachedAccel(), qemuVersion()]);
    const mismatch = restoreMismatch(manifest, { qemu: version, kernel: image.manifest.kernel, image: image.manifest.key, accel: accel.accel }, dir);
    if (mismatch) throw new Error(mismatch);
    const spec: SandboxSpec = { ...manifest.spec, ...(options.readyTimeoutMs !== undefined ? { readyTimeoutMs: options.readyTimeoutMs } : {}) };
    const sandbox = new QemuSandbox(spec);
    const from: RestoreFrom = { dir, manifest, state };
    const t0 = performance.now();
    await sandbox.start(async () => {
      const [setpriv, relay, preset] = await Promise.all([firstExecutable(SETPRIV_PATHS), nativeAgentPath(), this.#cachedPreset()]);
      if (!setpriv) throw new Error('setpriv not found (util-linux): qemu must run under --pdeathsig KILL');
      return {
        qemu: QEMU_BINARY,
        setpriv,
        image,
        machine: manifest.machine,
        accel: accel.accel,
        accelReason: accel.reason,
        execCaps: capabilityNumbers(spec.capabilities ?? []),
        tscKhz: null,
        preparedMs: performance.now() - t0,
        relay,
        cmdline: { preset: preset.name, words: presetWords(preset) },
        qemuVersion: version,
      };
    }, options.signal, from);
    return sandbox;
  }

  /** Forks are snapshots (QemuSandbox.fork): they work wherever snapshots do. */
  async forkSupport(): Promise<Availability> {
    return this.snapshotSupport();
  }

  /** A child of a fork image: a restore of it (its own copy of the RAM file, RESEED), refused as a restore refuses. */
  async fromFork(dir: string, options: RestoreOptions = {}): Promise<Sandbox> {
    return this.restore(dir, options);
  }

  /** KVM only when a stock kernel was seen booting under it (the probe's verdict is cached per host boot). */
  #cachedAccel(): Promise<{ accel: Accel; reason: string }> {
    if (this.options.accel) return Promise.resolve({ accel: this.options.accel, reason: 'forced by the backend options' });
    return this.#probedAccel();
  }
}

export const qemuBackend: Backend = new QemuBackend();
