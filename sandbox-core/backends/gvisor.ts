/**
 * The `gvisor` backend: gVisor's `runsc` as the OCI runtime over the runc
 * backend's bundle (runc/: the same config.json, staged busybox rootfs,
 * container lifecycle, cgroups, stale sweep and watchdog), run as
 * `runsc --root <state> --platform=<p> --network=none --oci-seccomp run`.
 * The commands' syscalls are served by the Sentry, gVisor's kernel in user
 * space, never by the host's.
 *
 * What runsc makes of runc's config (checked by test/sandbox-core/backends/gvisor/):
 * - ids: the OCI uid/gid maps are not the commands' host uids. The Sentry
 *   emulates its own ids (uid 0 and 1000 inside), and runsc runs it as host
 *   `nobody` (65534) in a user namespace of its own that maps only nobody,
 *   with no_new_privs and runsc's own seccomp filter on the Sentry. The gofer
 *   (runsc-gofer, which serves the rootfs to the Sentry) runs in a user
 *   namespace with the config's maps, as the sandbox's agent host uid.
 *   `runsc run`, the runtime, is host root like `runc run` and runs no
 *   sandboxed code. The sandbox's facts say which uid each process had.
 * - syscalls: runsc ignores linux.seccomp unless --oci-seccomp is given; it is
 *   given, so the project's profile (sandbox-core/seccomp/) filters the
 *   commands inside the Sentry, as it does on runc.
 * - network: `--network=none`: the Sentry's netstack has only a loopback.
 *   With spec.egress, as bwrap: the agent relays its loopback's 3128 (and
 *   1053) to the proxy's (and resolver's) unix socket, bound in read-only;
 *   runsc gets `--host-uds=open` so its gofer may connect them (runsc warns
 *   that this loosens the gofer's seccomp filter), only then.
 * - capabilities, rlimits (RLIMIT_NOFILE: a config's 555/777 showed as
 *   such inside), the read-only root, the tmpfs mounts and their sizes, the
 *   hostname and no_new_privs are honoured as runc does.
 * - maskedPaths and readonlyPaths are not mounts here: the Sentry's /proc
 *   has none of the masked files and is mounted rw, and its /proc/sys is
 *   the Sentry's own, which refuses the commands' writes by permission.
 * - resources: the cgroups (v1 here) of the config hold the Sentry, its stubs
 *   and the gofer; memory.limit_in_bytes caps them all, and the Sentry's
 *   memory is sized to it. A command that takes more gets the sandbox's
 *   processes OOM-killed by the host: the whole sandbox dies, bounded.
 *   pids.max bounds host processes and threads, of which the Sentry needs
 *   dozens of its own and several per task, so the spec's pidsLimit is
 *   applied inside as the commands' RLIMIT_NPROC (the agent's --exec-nproc;
 *   gVisor enforces it, the fork fails with EAGAIN) and the host cgroup's
 *   pids.max is a backstop sized from it (HOST_PIDS_PER_TASK).
 *
 * Platform: `ptrace` by default; the variant option `platform` takes ptrace,
 * kvm or systrap. available() runs `runsc --platform=<p> do true` once per
 * process under a deadline (runsc/PROBE_TIMEOUT_MS): here kvm hangs (KVM runs
 * only PVM guests) and this runsc has no systrap, and each says so.
 *
 * Cleanup: `runsc run` runs under `setpriv --pdeathsig KILL`; the Sentry is
 * started `--attached` (a parent-death SIGKILL of its own on `runsc run`),
 * and the gofer exits when the Sentry does. `runsc pause` stops the Sentry's
 * tasks inside, not with the freezer, so a paused sandbox dies the same way.
 * The per-backend watchdog (runc/watchdog.ts) removes the cgroups and temp
 * dirs of a SIGKILLed rigor; the next create() sweeps what is left
 * (runc/stale.ts).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { which } from '../../base/which.ts';
import { cacheUntilFailure } from './cache-until-failure.ts';
import { DEFAULT_BUSYBOX, buildBusyboxRootfs, type RootfsOptions } from '../images/busybox-rootfs.ts';
import { isStaticElf } from '../images/static-elf.ts';
import type { Limits } from '../isolation/limits.ts';
import { ociSeccomp, seccompProfile } from '../seccomp/profile.ts';
import type { OciRuntime } from './runc/runc-cli.ts';
import { stageRootfs } from './runc/rootfs.ts';
import { sweepStaleRuncCgroups } from './runc/stale.ts';
import { ensureRuncWatchdog } from './runc/watchdog.ts';
import { bundleConfig, checkSpec, UNCONFINED } from './runc.ts';
import { GvisorSandbox, type GvisorRestoreFrom } from './gvisor/sandbox.ts';
import { gvisorManifestSchema, IMAGE_FILE, restoreMismatch } from './gvisor/snapshot-manifest.ts';
import { checkFile, readManifest } from './snapshot-manifest.ts';
import { withEgressEnv } from './egress-env.ts';
import { checkConnectable } from '../isolation/reachable.ts';
import { DEFAULT_PLATFORM, GVISOR_PLATFORMS, probePlatform, RUNSC, runscVersion, type GvisorPlatform } from './gvisor/runsc.ts';
import type { Backend, RestoreOptions, Sandbox, SandboxSpec } from './types.ts';

const NAME = 'gvisor';
/**
 * The host's pids.max of a sandbox: HOST_PIDS_PER_TASK per task the commands may have, plus
 * HOST_PIDS_HEADROOM for the Sentry, gofer and agent. On ptrace every task costs host threads of
 * its own (a stub process per address space, a stub thread per Sentry thread that ran it): measured
 * here, an idle sandbox holds 27 and 40 to 280 sleeping tasks 7 to 9 each (up to 13 for the first
 * few). Too low a pids.max kills the whole sandbox (the Sentry panics: "resource temporarily
 * unavailable"), so this is a backstop; the commands meet their RLIMIT_NPROC first.
 */
export const HOST_PIDS_PER_TASK = 16;
export const HOST_PIDS_HEADROOM = 256;
/** The Sentry, gofer and agent starting peaked at 15.5 MiB of the memory cgroup here; with 8 or 12 MiB they were OOM-killed before the agent answered. */
export const GVISOR_MIN_MEMORY_MIB = 16;

export interface GvisorBackendOptions {
  rootfs?: RootfsOptions;
  /** Default DEFAULT_PLATFORM (ptrace). */
  platform?: GvisorPlatform;
  /** The commands' RLIMIT_NPROC when the spec sets no pidsLimit (default DEFAULT_LIMITS.pids). */
  pidsLimit?: number;
}

const VARIANT_OPTIONS = ['platform'] as const;
const variants = new Map<string, GvisorBackend>();

export class GvisorBackend implements Backend {
  readonly name = NAME;
  readonly variantOptions = VARIANT_OPTIONS;
  #housekeeping = false;

  constructor(private readonly options: GvisorBackendOptions = {}) {}

  get platform(): GvisorPlatform {
    return this.options.platform ?? DEFAULT_PLATFORM;
  }

  variantProblems(options: Record<string, unknown>): string[] {
    const { platform } = options;
    if (platform !== undefined && !GVISOR_PLATFORMS.includes(platform as GvisorPlatform)) {
      return [`platform: expected one of ${GVISOR_PLATFORMS.join(', ')}, found ${JSON.stringify(platform)}`];
    }
    return [];
  }

  /** This backend on another platform; the same options give the same backend. */
  variant(options: Record<string, unknown>): Backend {
    const problems = this.variantProblems(options);
    if (problems.length > 0) throw new Error(`backend gvisor: ${problems.join('; ')}`);
    const platform = (options.platform as GvisorPlatform | undefined) ?? this.platform;
    let backend = variants.get(platform);
    if (!backend) variants.set(platform, (backend = new GvisorBackend({ ...this.options, platform })));
    return backend;
  }

  async available(): Promise<{ ok: true } | { ok: false; reason: string }> {
    if (process.getuid?.() !== 0) return { ok: false, reason: 'runsc needs root on this host to set up cgroups and its user namespaces' };
    if (!which(RUNSC)) return { ok: false, reason: 'runsc not on PATH (apt-get install runsc)' };
    if (!which('setpriv')) return { ok: false, reason: 'setpriv (util-linux) not on PATH' };
    const busybox = this.options.rootfs?.busyboxPath ?? DEFAULT_BUSYBOX;
    if (!existsSync(busybox) || !(await isStaticElf(busybox))) {
      return { ok: false, reason: `no static busybox at ${busybox} for the rootfs (apt-get install busybox-static)` };
    }
    try {
      await runscVersion();
    } catch (error) {
      return { ok: false, reason: (error as Error).message };
    }
    return probePlatform(this.platform);
  }

  /** The staged read-only rootfs, as the runc backend makes it (one copy per rootfs key, shared with runc). */
  readonly rootfs = cacheUntilFailure(async () => stageRootfs(await buildBusyboxRootfs(this.options.rootfs)));

  async create(spec: SandboxSpec = {}, options: { signal?: AbortSignal } = {}): Promise<Sandbox> {
    return this.#start(spec, options.signal);
  }

  /**
   * Whether `runsc checkpoint` and `runsc restore` work here, found once per process by doing it: a
   * sandbox created, saved into a temp dir and run on from its image, then asked a PING.
   */
  snapshotSupport(): Promise<{ ok: true } | { ok: false; reason: string }> {
    this.#snapshotProbe ??= this.#probeSnapshots();
    return this.#snapshotProbe;
  }

  #snapshotProbe: Promise<{ ok: true } | { ok: false; reason: string }> | undefined;

  async #probeSnapshots(): Promise<{ ok: true } | { ok: false; reason: string }> {
    const available = await this.available();
    if (!available.ok) return available;
    const root = mkdtempSync(join(tmpdir(), 'rigor-gvisor-snapshot-probe-'));
    let sandbox: Sandbox | undefined;
    try {
      sandbox = await this.create();
      await sandbox.snapshot!(join(root, 'probe'));
      await sandbox.ping();
      return { ok: true };
    } catch (error) {
      return { ok: false, reason: `runsc --platform=${this.platform} checkpoint/restore failed here: ${(error as Error).message}` };
    } finally {
      await sandbox?.destroy().catch(() => undefined);
      rmSync(root, { recursive: true, force: true });
    }
  }

  /**
   * A sandbox restored from a snapshot dir (GvisorSandbox.snapshot): the same runsc, platform and
   * rootfs or a clear refusal before anything starts, the image checked against its digest; then a
   * new container (its own id, cgroups and host ids) from `runsc restore`, the agent's channel adopted
   * where the save left it, and a PING. No RESEED: the Sentry has no entropy pool of its own to save (it
   * reads the host's getrandom, and refuses RNDADDENTROPY) and its clocks are the host's.
   */
  async restore(dir: string, options: RestoreOptions = {}): Promise<Sandbox> {
    const manifest = await readManifest(dir, gvisorManifestSchema);
    await checkFile(dir, IMAGE_FILE, manifest.files.image);
    const [version, staged] = await Promise.all([runscVersion(), this.rootfs()]);
    const mismatch = restoreMismatch(manifest, { runsc: version, platform: this.platform, rootfs: basename(dirname(staged)) }, dir);
    if (mismatch) throw new Error(mismatch);
    const spec: SandboxSpec = { ...manifest.spec, ...(options.readyTimeoutMs !== undefined ? { readyTimeoutMs: options.readyTimeoutMs } : {}) };
    return this.#start(spec, options.signal, { dir, hello: manifest.agent.hello, nextId: manifest.agent.next_id });
  }

  async #start(spec: SandboxSpec, signal: AbortSignal | undefined, restoreFrom?: GvisorRestoreFrom): Promise<Sandbox> {
    const t0 = performance.now();
    const limits = checkGvisorSpec(spec, this.options.pidsLimit);
    const profile = spec.seccomp === 'unconfined' ? undefined : seccompProfile({ allowSyscalls: spec.allowSyscalls });
    if (!this.#housekeeping) {
      this.#housekeeping = true;
      void sweepStaleRuncCgroups(NAME).catch(() => undefined);
      ensureRuncWatchdog(NAME);
    }
    const egress = spec.egress !== undefined;
    // --host-uds=open lets the gofer connect to the bound sockets (and loosens its seccomp filter for that): only with egress
    const flags = [`--platform=${this.platform}`, '--network=none', '--oci-seccomp', ...(egress ? ['--host-uds=open'] : [])];
    const runtime: OciRuntime = { backend: NAME, command: RUNSC, flags };
    const seccomp = profile ? { name: profile.name, oci: ociSeccomp(profile) } : undefined;
    const facts = { runscVersion: await runscVersion(), platform: this.platform, egress };
    return new GvisorSandbox(
      withEgressEnv(spec, 'gvisor'),
      { limits, seccompProfile: seccomp?.name ?? UNCONFINED },
      (sandbox) =>
        bundleConfig(sandbox, spec, limits, seccomp?.oci, t0, {
          rootfs: this.rootfs,
          execNproc: limits.pids,
          cgroupPids: limits.pids * HOST_PIDS_PER_TASK + HOST_PIDS_HEADROOM,
          egress: 'gvisor',
        }),
      runtime,
      facts,
      restoreFrom,
    ).start(signal, t0);
  }
}

export const gvisorBackend = new GvisorBackend();

/** What runsc cannot give, then runc's checks (seccomp, limits, capabilities). */
function checkGvisorSpec(spec: SandboxSpec, backendPidsLimit: number | undefined): Limits {
  if (spec.network !== undefined && spec.network !== 'none') throw new Error(`spec.network: gvisor supports only "none", found ${JSON.stringify(spec.network)}`);
  if (spec.agent !== undefined && spec.agent !== 'native') {
    throw new Error(`spec.agent: gvisor runs the native agent only (it bounds the commands' processes with --exec-nproc, which the Node agent lacks), found ${JSON.stringify(spec.agent)}`);
  }
  if (spec.memoryMiB !== undefined && spec.memoryMiB < GVISOR_MIN_MEMORY_MIB) {
    throw new Error(`spec.memoryMiB: gvisor needs at least ${GVISOR_MIN_MEMORY_MIB} MiB (the Sentry and the gofer run in the sandbox's memory cgroup), found ${spec.memoryMiB}`);
  }
  return checkSpec(spec, backendPidsLimit);
}
