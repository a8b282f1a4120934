/**
 * rigor's default seccomp profile for the bwrap and runc backends, as data.
 *
 * Why a deny list (default ALLOW) rather than Docker's allow list: sandboxes
 * run arbitrary programs (compilers, language runtimes, test suites) and an
 * allow list breaks whatever harmless syscall it has not heard of yet, and
 * needs upkeep with every kernel. What makes seccomp worth having in a
 * sandbox is closing the few interfaces that reach host-wide state or large,
 * often-exploited kernel code, and those are a short, well-known list. The
 * trade-off: a syscall added to a future kernel is allowed until listed here.
 *
 * Which list: Docker's documented "Significant syscalls blocked by the
 * default profile" (https://docs.docker.com/engine/security/seccomp/, from
 * moby's profiles/seccomp/default.json), the baseline most workloads are
 * known to run under, plus the new mount API and name_to_handle_at (which
 * Docker gates behind CAP_SYS_ADMIN / CAP_DAC_READ_SEARCH) and io_uring
 * (out of Docker's default profile since 25.0). As Docker does: clone is
 * refused only with a namespace flag (a masked comparison on arg0), clone3
 * answers ENOSYS because its flags sit behind a pointer seccomp cannot read
 * (libc then falls back to clone), and personality keeps the values Docker
 * allows. Everything else denied answers EPERM.
 *
 * Arches: x86_64, with x86 and x32 as Docker lists them for amd64 (a filter
 * without them would let a 32-bit call of the same syscall through); the
 * profile is for x86_64 hosts only. Pure: no I/O here (bpf.ts compiles it).
 */

/** Bumped whenever the rules change, so a result names the profile it ran under. */
export const PROFILE_NAME = 'rigor-default-v1';
/** libseccomp arch names the filter covers; the first is the native one. */
export const ARCHITECTURES = ['x86_64', 'x86', 'x32'] as const;
export const EPERM = 1;
export const ENOSYS = 38;

export type SeccompOp = 'SCMP_CMP_NE' | 'SCMP_CMP_LT' | 'SCMP_CMP_LE' | 'SCMP_CMP_EQ' | 'SCMP_CMP_GE' | 'SCMP_CMP_GT' | 'SCMP_CMP_MASKED_EQ';

/** One comparison of a syscall argument; MASKED_EQ matches (arg & value) === valueTwo, as in the OCI spec. */
export interface ArgComparison {
  index: number;
  op: SeccompOp;
  value: number;
  valueTwo?: number;
}

/**
 * Denies one syscall with `errno`. All `args` must hold, each on a different
 * argument (libseccomp refuses two on one, and runc would OR them); several
 * rules for one syscall are alternatives.
 */
export interface SeccompRule {
  syscall: string;
  errno: number;
  args: ArgComparison[];
}

export interface SeccompProfile {
  /** PROFILE_NAME, plus "+allow(a,b)" when names were allowed back. */
  name: string;
  defaultAction: 'allow';
  architectures: readonly string[];
  rules: SeccompRule[];
}

export interface DenyGroup {
  reason: string;
  syscalls: readonly string[];
  /** Default EPERM. */
  errno?: number;
  /** Alternatives, each a list of comparisons that must all hold; default: always denied. */
  when?: readonly (readonly ArgComparison[])[];
}

/** Namespace flags of clone(2): CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET. */
const CLONE_NAMESPACE_FLAGS = [0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000];
/** personality(2) values Docker allows: PER_LINUX, PER_LINUX32, UNAME26, UNAME26|PER_LINUX32, and the query 0xffffffff. */
export const ALLOWED_PERSONALITIES: readonly number[] = [0x0, 0x8, 0x20000, 0x20008, 0xffffffff];

export const DENY_LIST: readonly DenyGroup[] = [
  { reason: 'kernel modules: code loaded into the host kernel', syscalls: ['create_module', 'delete_module', 'finit_module', 'init_module', 'get_kernel_syms', 'query_module'] },
  { reason: 'kexec and reboot: replacing or stopping the host kernel', syscalls: ['kexec_file_load', 'kexec_load', 'reboot'] },
  { reason: 'the clock is not namespaced: setting it sets the host\'s', syscalls: ['clock_adjtime', 'clock_settime', 'settimeofday', 'stime'] },
  { reason: 'the kernel keyring is not namespaced', syscalls: ['add_key', 'keyctl', 'request_key'] },
  { reason: 'bpf and tracing: kernel attack surface that can read the host\'s and other processes\' data', syscalls: ['bpf', 'perf_event_open', 'lookup_dcookie'] },
  { reason: 'mounts: rearranging the filesystem view, a privileged operation', syscalls: ['mount', 'umount', 'umount2', 'move_mount', 'open_tree', 'fsopen', 'fsconfig', 'fsmount', 'fspick', 'pivot_root'] },
  { reason: 'namespaces: joining or making one (a new user namespace holds every capability, and kernel code behind them)', syscalls: ['setns', 'unshare'] },
  {
    reason: 'clone with a namespace flag: the same as unshare, one rule per flag',
    syscalls: ['clone'],
    when: CLONE_NAMESPACE_FLAGS.map((flag): ArgComparison[] => [{ index: 0, op: 'SCMP_CMP_MASKED_EQ', value: flag, valueTwo: flag }]),
  },
  { reason: 'clone3: its flags sit behind a pointer seccomp cannot read; ENOSYS makes libc fall back to clone', syscalls: ['clone3'], errno: ENOSYS },
  { reason: 'inspecting other processes (already needs CAP_SYS_PTRACE)', syscalls: ['kcmp', 'process_vm_readv', 'process_vm_writev'] },
  { reason: 'NUMA memory policy: can degrade memory for the whole host', syscalls: ['get_mempolicy', 'set_mempolicy', 'mbind', 'move_pages'] },
  { reason: 'file handles: open_by_handle_at bypasses the mount\'s path (the "shocker" container escape)', syscalls: ['name_to_handle_at', 'open_by_handle_at'] },
  { reason: 'I/O privilege and x86 real mode: direct hardware access', syscalls: ['ioperm', 'iopl', 'vm86', 'vm86old'] },
  { reason: 'accounting, quotas and swap: host-wide resource controls', syscalls: ['acct', 'quotactl', 'swapon', 'swapoff'] },
  { reason: 'obsolete interfaces nothing current needs', syscalls: ['nfsservctl', 'sysfs', '_sysctl', 'uselib', 'ustat'] },
  { reason: 'userfaultfd: stalls kernel page faults at will, a common exploit aid', syscalls: ['userfaultfd'] },
  { reason: 'io_uring: a large, often-exploited kernel surface whose operations bypass this filter', syscalls: ['io_uring_setup', 'io_uring_enter', 'io_uring_register'] },
  {
    reason: 'personality: other execution domains are little-tested kernel code; Docker\'s harmless values stay allowed',
    syscalls: ['personality'],
    when: exceptValues(0, ALLOWED_PERSONALITIES),
  },
];

/** Every syscall the default profile denies, in DENY_LIST order. */
export const DENIED_SYSCALLS: readonly string[] = DENY_LIST.flatMap((group) => group.syscalls);

/**
 * Alternatives matching every value of argument `index` but `allowed`:
 * anything above 32 bits, and the 32-bit gaps between the allowed values
 * cut into aligned blocks (as CIDR prefixes cover an address range), each one
 * masked comparison, since a rule cannot compare one argument twice.
 */
export function exceptValues(index: number, allowed: readonly number[]): ArgComparison[][] {
  const bad = allowed.find((value) => !Number.isInteger(value) || value < 0 || value > 0xffffffff);
  if (bad !== undefined) throw new Error(`exceptValues allowed: expected 32-bit unsigned integers, found ${bad}`);
  const alternatives: ArgComparison[][] = [[{ index, op: 'SCMP_CMP_GT', value: 0xffffffff }]];
  const sorted = [...new Set(allowed)].sort((a, b) => a - b);
  let next = 0;
  for (const end of [...sorted, 2 ** 32]) {
    for (let low = next; low < end; ) {
      let size = 1;
      while (low % (size * 2) === 0 && low + size * 2 <= end) size *= 2;
      const mask = 2 ** 32 - size;
      alternatives.push([{ index, op: 'SCMP_CMP_MASKED_EQ', value: mask, valueTwo: low }]);
      low += size;
    }
    next = end + 1;
  }
  return alternatives;
}

/** rigor's default profile, with `allowSyscalls` (names from DENIED_SYSCALLS) allowed back; throws naming a bad entry. */
export function seccompProfile(options: { allowSyscalls?: string[] } = {}): SeccompProfile {
  const allowed = checkAllowSyscalls(options.allowSyscalls ?? []);
  const rules: SeccompRule[] = [];
  for (const group of DENY_LIST) {
    for (const syscall of group.syscalls) {
      if (allowed.includes(syscall)) continue;
      for (const args of group.when ?? [[]]) rules.push({ syscall, errno: group.errno ?? EPERM, args: args.map((arg) => ({ ...arg })) });
    }
  }
  const name = allowed.length === 0 ? PROFILE_NAME : `${PROFILE_NAME}+allow(${allowed.join(',')})`;
  return { name, defaultAction: 'allow', architectures: [...ARCHITECTURES], rules };
}

/** The allowed names, sorted and without repeats; throws unless each is a name the profile denies. */
function checkAllowSyscalls(names: unknown): string[] {
  const field = 'sandbox spec allowSyscalls';
  if (!Array.isArray(names)) throw new Error(`${field}: expected an array of syscall names, found ${JSON.stringify(names)}`);
  for (const name of names) {
    if (typeof name !== 'string' || !DENIED_SYSCALLS.includes(name)) {
      throw new Error(`${field}: expected syscalls that ${PROFILE_NAME} denies (${DENIED_SYSCALLS.join(', ')}), found ${JSON.stringify(name)}`);
    }
  }
  return [...new Set(names as string[])].sort();
}

export interface OciSeccompSyscall {
  names: string[];
  action: 'SCMP_ACT_ERRNO';
  errnoRet: number;
  args?: { index: number; value: number; valueTwo: number; op: SeccompOp }[];
}

/** The OCI runtime-spec `linux.seccomp` object (as runc 1.1 reads it). */
export interface OciSeccomp {
  defaultAction: 'SCMP_ACT_ALLOW';
  architectures: string[];
  syscalls: OciSeccompSyscall[];
}

/** The profile as `linux.seccomp`: unconditional denials grouped by errno, each conditional rule its own entry. */
export function ociSeccomp(profile: SeccompProfile): OciSeccomp {
  const syscalls: OciSeccompSyscall[] = [];
  const plain = new Map<number, OciSeccompSyscall>();
  for (const rule of profile.rules) {
    if (rule.args.length === 0) {
      const entry = plain.get(rule.errno) ?? { names: [], action: 'SCMP_ACT_ERRNO', errnoRet: rule.errno };
      if (!plain.has(rule.errno)) {
        plain.set(rule.errno, entry);
        syscalls.push(entry);
      }
      entry.names.push(rule.syscall);
      continue;
    }
    const args = rule.args.map((arg) => ({ index: arg.index, value: arg.value, valueTwo: arg.valueTwo ?? 0, op: arg.op }));
    syscalls.push({ names: [rule.syscall], action: 'SCMP_ACT_ERRNO', errnoRet: rule.errno, args });
  }
  return { defaultAction: 'SCMP_ACT_ALLOW', architectures: profile.architectures.map((arch) => `SCMP_ARCH_${arch.toUpperCase()}`), syscalls };
}
