/** What on this host can bend the numbers, each finding with what to do about it. */
import type { KvmStatus } from '../../sandbox-core/kvm/probe.ts';
import { probeKvm } from '../../sandbox-core/kvm/probe.ts';
import { LEFTOVER_KINDS, type Leftover } from '../../sandbox-core/leftovers.ts';
import { cpuGovernor, isRoot, loadAverage, logicalCpus, memory, smtControl, turboEnabled, type Memory } from './os.ts';
import { toolVersions } from './tools.ts';

export interface DoctorCheck {
  name: string;
  status: 'ok' | 'warn' | 'fail';
  value: string;
  advice?: string;
}

/** The tools `rigor doctor` always reports on: the ones the shipped backends and the command workload use. */
const DOCTOR_TOOLS = ['bwrap', 'runc', 'qemu-system-x86_64', 'hyperfine', 'python3'];

/** Debian package names where they differ from the binary, for the install advice. */
const PACKAGES: Record<string, string> = { bwrap: 'bubblewrap', 'qemu-system-x86_64': 'qemu-system-x86' };

/** What the host checks look at; gathered once so the checks stay pure. */
export interface HostFacts {
  load: [number, number, number];
  logicalCpus: number;
  governor: string | null;
  memory: Memory;
  turbo: boolean | null;
  smt: string | null;
}

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;

export function gatherHostFacts(): HostFacts {
  return { load: loadAverage(), logicalCpus: logicalCpus(), governor: cpuGovernor(), memory: memory(), turbo: turboEnabled(), smt: smtControl() };
}

/** The checks of the machine's state that bend timings; these become host.warnings of an artifact. */
export function hostChecks(facts: HostFacts): DoctorCheck[] {
  const checks: DoctorCheck[] = [];
  const [oneMinute] = facts.load;
  checks.push(
    oneMinute > 0.5 * facts.logicalCpus
      ? { name: 'load', status: 'warn', value: `${oneMinute.toFixed(2)} on ${facts.logicalCpus} cpus`, advice: 'another process is busy; numbers will be noisy — wait or stop it' }
      : { name: 'load', status: 'ok', value: `${oneMinute.toFixed(2)} on ${facts.logicalCpus} cpus` },
  );
  // no cpufreq is ok: nothing here can pin the clock, and cpu_governor: null records it
  if (facts.governor === null) {
    checks.push({ name: 'cpu governor', status: 'ok', value: 'none', advice: 'no cpufreq (virtual machine?): the hypervisor controls the frequency' });
  } else {
    checks.push(
      facts.governor === 'performance'
        ? { name: 'cpu governor', status: 'ok', value: facts.governor }
        : { name: 'cpu governor', status: 'warn', value: facts.governor, advice: 'the clock follows load; pin it: cpupower frequency-set -g performance' },
    );
  }
  const available = facts.memory.available_bytes;
  checks.push(
    available < GIB
      ? { name: 'memory', status: 'warn', value: `${(available / GIB).toFixed(2)} GiB available`, advice: 'under 1 GiB free: guests and caches will fight for memory — stop something' }
      : { name: 'memory', status: 'ok', value: `${(available / GIB).toFixed(1)} of ${(facts.memory.total_bytes / GIB).toFixed(1)} GiB available` },
  );
  const swapUsed = facts.memory.swap_total_bytes - facts.memory.swap_free_bytes;
  if (facts.memory.swap_total_bytes === 0) checks.push({ name: 'swap', status: 'ok', value: 'none configured' });
  else
    checks.push(
      swapUsed > 0
        ? { name: 'swap', status: 'warn', value: `${Math.round(swapUsed / MIB)} MiB in use`, advice: 'paging adds latency spikes — free memory, then swapoff -a && swapon -a' }
        : { name: 'swap', status: 'ok', value: 'none in use' },
    );
  if (facts.turbo !== null) {
    checks.push(
      facts.turbo
        ? { name: 'turbo', status: 'warn', value: 'on', advice: 'the clock varies with heat and load; turn boost off (intel_pstate/no_turbo or cpufreq/boost)' }
        : { name: 'turbo', status: 'ok', value: 'off' },
    );
  }
  if (facts.smt !== null) {
    // SMT siblings share a core; informative, not a warning: most hosts run with it on
    checks.push({ name: 'smt', status: 'ok', value: facts.smt, ...(facts.smt === 'on' ? { advice: 'for the quietest numbers: echo off > /sys/devices/system/cpu/smt/control' } : {}) });
  }
  return checks;
}

export function kvmCheck(kvm: KvmStatus): DoctorCheck {
  const value = `${kvm.status}${kvm.cached ? ' (cached this boot)' : ''}`;
  if (kvm.status === 'usable') return { name: 'kvm', status: 'ok', value, advice: kvm.reason };
  return { name: 'kvm', status: 'warn', value, advice: `${kvm.reason} — qemu cells run under TCG` };
}

export function toolChecks(versions: Record<string, string | null>): DoctorCheck[] {
  return Object.entries(versions).map(([tool, version]) =>
    version === null
      ? { name: tool, status: 'warn', value: 'not installed', advice: `apt-get install ${PACKAGES[tool] ?? tool}; cells needing it will be skipped` }
      : { name: tool, status: 'ok', value: version },
  );
}

function rootCheck(root: boolean): DoctorCheck {
  return root
    ? { name: 'root', status: 'ok', value: 'yes', advice: 'page cache drops possible' }
    : { name: 'root', status: 'warn', value: 'no', advice: 'cells that drop the page cache will be skipped; run as root for them' };
}

/** package.json says node >= 20: older ones lack APIs the runner uses. */
export function nodeCheck(version: string): DoctorCheck {
  const major = Number(/^v?(\d+)/.exec(version)?.[1] ?? 0);
  return major >= 20
    ? { name: 'node', status: 'ok', value: version }
    : { name: 'node', status: 'fail', value: version, advice: 'rigor needs Node 20 or newer' };
}

/** "3 cgroups, 1 temp-dir": the leftovers counted by kind, in LEFTOVER_KINDS order. */
export function countByKind(leftovers: Leftover[]): string {
  return LEFTOVER_KINDS.flatMap((kind) => {
    const count = leftovers.filter((leftover) => leftover.kind === kind).length;
    return count > 0 ? [`${count} ${kind}${count === 1 ? '' : 's'}`] : [];
  }).join(', ');
}

/** What killed rigor runs left on this host (sandbox-core/leftovers.ts): a warning naming the flag that removes them. */
export function leftoversCheck(leftovers: Leftover[]): DoctorCheck {
  if (leftovers.length === 0) return { name: 'leftovers', status: 'ok', value: 'none' };
  const owners = new Set(leftovers.map((leftover) => leftover.owner).filter((owner) => owner !== undefined));
  return {
    name: 'leftovers',
    status: 'warn',
    value: countByKind(leftovers),
    advice: `left by ${owners.size} rigor process${owners.size === 1 ? '' : 'es'} that died without cleaning up (SIGKILL?); rigor doctor --clean removes them (--json lists each)`,
  };
}

export async function runDoctor(opts: { tools?: string[]; forceKvmProbe?: boolean; kvmCacheDir?: string; leftovers?: Leftover[] } = {}): Promise<{ checks: DoctorCheck[]; kvm: KvmStatus }> {
  const tools = [...new Set([...DOCTOR_TOOLS, ...(opts.tools ?? [])])];
  const kvm = await probeKvm({ force: opts.forceKvmProbe, cacheDir: opts.kvmCacheDir });
  const checks = [
    ...hostChecks(gatherHostFacts()),
    kvmCheck(kvm),
    rootCheck(isRoot()),
    nodeCheck(process.version),
    ...toolChecks(toolVersions(tools)),
    ...(opts.leftovers ? [leftoversCheck(opts.leftovers)] : []),
  ];
  return { checks, kvm };
}

/** The warn and fail checks as "name: value — advice" lines, for host.warnings. */
export function doctorWarnings(checks: DoctorCheck[]): string[] {
  return checks.filter((check) => check.status !== 'ok').map((check) => `${check.name}: ${check.value}${check.advice ? ` — ${check.advice}` : ''}`);
}
