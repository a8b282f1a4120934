/**
 * Whether KVM can run a stock Linux guest here, found by booting one: a
 * /dev/kvm that opens proves nothing (a PVM guest host has one, and stock
 * kernels hang under it while they boot fine under TCG).
 */
import { accessSync, closeSync, constants, openSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { bootKernel, type BootOutcome } from './boot.ts';
import { defaultCacheDir, readCachedVerdict, writeCachedVerdict, type CachedVerdict } from './cache.ts';
import { readText } from '../../base/read-text.ts';
import { which } from '../../base/which.ts';

export interface KvmStatus {
  status: 'usable' | 'absent' | 'present-but-unusable' | 'unprobed';
  reason: string;
  probe_ms: number | null;
  cached: boolean;
}

export interface ProbeKvmOptions {
  /** How long a guest may take to print its banner and reach a later boot line. Default 4000. */
  timeoutMs?: number;
  /** Where kvm-probe.json lives. Default ~/.cache/rigor ($XDG_CACHE_HOME/rigor when set). */
  cacheDir?: string;
  /** Boot again even when this boot already has a verdict. */
  force?: boolean;
  /** Only answer from the cache; never boot a guest (status 'unprobed' when nothing is cached). */
  cachedOnly?: boolean;
  /** The KVM device. Default /dev/kvm. */
  device?: string;
  /** Where to look for vmlinuz-* guest kernels. Default /boot. */
  bootDir?: string;
}

const QEMU = 'qemu-system-x86_64';

/** The newest readable vmlinuz-* in bootDir, by version order of the file names. */
export function newestKernel(bootDir: string): string | null {
  let names: string[];
  try {
    names = readdirSync(bootDir).filter((name) => name.startsWith('vmlinuz-'));
  } catch {
    return null;
  }
  names.sort((a, b) => b.localeCompare(a, 'en', { numeric: true }));
  for (const name of names) {
    const file = path.join(bootDir, name);
    try {
      accessSync(file, constants.R_OK);
      if (statSync(file).isFile()) return file;
    } catch {
      // unreadable (often mode 0600 for non-root): try the next
    }
  }
  return null;
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

/** Why the device cannot be used, or null when it opens read-write. */
function deviceProblem(device: string): KvmStatus | null {
  try {
    closeSync(openSync(device, 'r+'));
    return null;
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    if (code === 'ENOENT') return { status: 'absent', reason: `no ${device}`, probe_ms: null, cached: false };
    const advice = code === 'EACCES' ? ' (add this user to the kvm group)' : '';
    return { status: 'present-but-unusable', reason: `cannot open ${device} read-write: ${code ?? message}${advice}`, probe_ms: null, cached: false };
  }
}

/** Boots under KVM with -cpu host, then qemu's default cpu model if qemu itself refused the first. */
async function bootUnderKvm(qemu: string, kernel: string, timeoutMs: number): Promise<{ verdict: BootOutcome; cpu: string; hostFailure?: string }> {
  const host = await bootKernel({ qemu, kernel, accel: 'kvm', cpu: 'host', timeoutMs, until: 'progress' });
  if (host.kind !== 'qemu-failed') return { verdict: host, cpu: '-cpu host' };
  const fallback = await bootKernel({ qemu, kernel, accel: 'kvm', timeoutMs, until: 'progress' });
  return { verdict: fallback, cpu: "qemu's default cpu model", hostFailure: host.message };
}

async function bootProbe(qemu: string, kernel: string, timeoutMs: number): Promise<CachedVerdict> {
  const started = performance.now();
  const probeMs = () => Math.round(performance.now() - started);
  const { verdict, cpu, hostFailure } = await bootUnderKvm(qemu, kernel, timeoutMs);
  const hostNote = hostFailure ? `; with -cpu host qemu failed: ${hostFailure}` : '';
  if (verdict.kind === 'booted') {
    return { status: 'usable', reason: `a stock kernel (${kernel}) booted under -enable-kvm with ${cpu} in ${seconds(verdict.ms)}${hostNote}`, probe_ms: probeMs() };
  }
  const kvmFailure =
    verdict.kind === 'qemu-failed'
      ? `qemu -enable-kvm failed: ${verdict.message}${hostNote}`
      : verdict.sawBanner
        ? `a stock kernel (${kernel}) printed its banner but nothing after it within ${seconds(timeoutMs)} under -enable-kvm${hostNote}`
        : `a stock kernel (${kernel}) printed nothing within ${seconds(timeoutMs)} under -enable-kvm (this host runs PVM-only KVM?)${hostNote}`;
  // control: the same kernel under TCG, so a broken kernel or qemu is not blamed on KVM
  const control = await bootKernel({ qemu, kernel, accel: 'tcg', timeoutMs: timeoutMs * 2, until: 'banner' });
  if (control.kind === 'booted') {
    return { status: 'present-but-unusable', reason: `${kvmFailure}; under TCG the same kernel printed its banner in ${seconds(control.ms)}`, probe_ms: probeMs() };
  }
  const controlFailure = control.kind === 'qemu-failed' ? `qemu failed: ${control.message}` : `printed nothing within ${seconds(timeoutMs * 2)}`;
  return { status: 'unprobed', reason: `${kernel} does not boot under TCG either (${controlFailure}), so it cannot judge KVM; ${kvmFailure}`, probe_ms: probeMs() };
}

export async function probeKvm(opts: ProbeKvmOptions = {}): Promise<KvmStatus> {
  const device = opts.device ?? '/dev/kvm';
  const problem = deviceProblem(device);
  if (problem) return problem;
  if (process.arch !== 'x64') return { status: 'unprobed', reason: `the boot probe supports x86_64 hosts only (this is ${process.arch})`, probe_ms: null, cached: false };
  const qemu = which(QEMU);
  if (!qemu) return { status: 'unprobed', reason: `${QEMU} not installed (apt-get install qemu-system-x86)`, probe_ms: null, cached: false };
  const kernel = newestKernel(opts.bootDir ?? '/boot');
  if (!kernel) return { status: 'unprobed', reason: 'no guest kernel to probe with (apt-get install linux-image-cloud-amd64)', probe_ms: null, cached: false };

  const cacheDir = opts.cacheDir ?? defaultCacheDir();
  const bootId = readText('/proc/sys/kernel/random/boot_id')?.trim() ?? 'unknown-boot';
  const cached = opts.force ? null : readCachedVerdict(cacheDir, bootId, kernel);
  if (cached) return { ...cached, cached: true };
  if (opts.cachedOnly) return { status: 'unprobed', reason: 'not probed in this run; `rigor doctor` probes it', probe_ms: null, cached: false };

  const verdict = await bootProbe(qemu, kernel, opts.timeoutMs ?? 4000);
  try {
    writeCachedVerdict(cacheDir, bootId, kernel, verdict);
  } catch {
    // an unwritable cache only costs a probe next time
  }
  return { ...verdict, cached: false };
}
