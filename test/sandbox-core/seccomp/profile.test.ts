import { describe, expect, it } from 'vitest';
import {
  DENIED_SYSCALLS,
  DENY_LIST,
  ENOSYS,
  EPERM,
  PROFILE_NAME,
  compilerInput,
  exceptValues,
  ociSeccomp,
  seccompProfile,
  type ArgComparison,
  type SeccompProfile,
  type SeccompRule,
} from '../../../sandbox-core/seccomp/index.ts';

/** Docker's "significant syscalls blocked by the default profile", plus what rigor adds (new mount API, name_to_handle_at, io_uring, clone3). */
const EXPECTED_DENIED = [
  'acct', 'add_key', 'bpf', 'clock_adjtime', 'clock_settime', 'clone', 'clone3', 'create_module', 'delete_module', 'finit_module',
  'get_kernel_syms', 'get_mempolicy', 'init_module', 'ioperm', 'iopl', 'kcmp', 'kexec_file_load', 'kexec_load', 'keyctl',
  'lookup_dcookie', 'mbind', 'mount', 'move_mount', 'open_tree', 'fsopen', 'fsconfig', 'fsmount', 'fspick', 'move_pages',
  'name_to_handle_at', 'nfsservctl', 'open_by_handle_at', 'perf_event_open', 'personality', 'pivot_root', 'process_vm_readv',
  'process_vm_writev', 'query_module', 'quotactl', 'reboot', 'request_key', 'set_mempolicy', 'setns', 'settimeofday', 'stime',
  'swapon', 'swapoff', 'sysfs', '_sysctl', 'umount', 'umount2', 'unshare', 'uselib', 'userfaultfd', 'ustat', 'vm86', 'vm86old',
  'io_uring_setup', 'io_uring_enter', 'io_uring_register',
];
const CLONE_NAMESPACE_FLAGS = { NEWNS: 0x20000, NEWCGROUP: 0x2000000, NEWUTS: 0x4000000, NEWIPC: 0x8000000, NEWUSER: 0x10000000, NEWPID: 0x20000000, NEWNET: 0x40000000 };
const MASK64 = (1n << 64n) - 1n;

function holds(arg: ArgComparison, value: bigint): boolean {
  const a = BigInt(arg.value);
  switch (arg.op) {
    case 'SCMP_CMP_EQ': return value === a;
    case 'SCMP_CMP_NE': return value !== a;
    case 'SCMP_CMP_LT': return value < a;
    case 'SCMP_CMP_LE': return value <= a;
    case 'SCMP_CMP_GT': return value > a;
    case 'SCMP_CMP_GE': return value >= a;
    case 'SCMP_CMP_MASKED_EQ': return (value & a) === BigInt(arg.valueTwo ?? 0);
  }
}

/** What the filter answers a call: the errno of the first rule whose comparisons all hold, else undefined (allowed). */
function answer(rules: SeccompRule[], syscall: string, args: bigint[] = []): number | undefined {
  return rules.find((rule) => rule.syscall === syscall && rule.args.every((arg) => holds(arg, args[arg.index] ?? 0n)))?.errno;
}

/** A small deterministic generator of 64-bit values (xorshift). */
function* values(count: number): Generator<bigint> {
  let state = 0x9e3779b97f4a7c15n;
  for (let i = 0; i < count; i++) {
    state ^= (state << 13n) & MASK64;
    state ^= state >> 7n;
    state ^= (state << 17n) & MASK64;
    yield i % 2 === 0 ? state & 0xffffffffn : state;
  }
}

describe('the default profile', () => {
  const profile = seccompProfile();

  it('is named and denies exactly the documented list, each group with a reason', () => {
    expect(profile.name).toBe(PROFILE_NAME);
    expect(profile.name).toBe('rigor-default-v1');
    expect(profile.defaultAction).toBe('allow');
    expect([...DENIED_SYSCALLS].sort()).toEqual([...EXPECTED_DENIED].sort());
    expect(new Set(DENIED_SYSCALLS).size).toBe(DENIED_SYSCALLS.length);
    expect(new Set(profile.rules.map((rule) => rule.syscall))).toEqual(new Set(EXPECTED_DENIED));
    for (const group of DENY_LIST) expect(group.reason.length).toBeGreaterThan(10);
  });

  it('denies with EPERM, clone3 with ENOSYS so that libc falls back to clone', () => {
    for (const syscall of EXPECTED_DENIED.filter((name) => !['clone', 'clone3', 'personality'].includes(name))) {
      expect({ syscall, errno: answer(profile.rules, syscall, [0n, 0n]) }).toEqual({ syscall, errno: EPERM });
    }
    expect(answer(profile.rules, 'clone3')).toBe(ENOSYS);
    expect(answer(profile.rules, 'getpid')).toBeUndefined();
    expect(answer(profile.rules, 'ptrace')).toBeUndefined();
  });

  it('denies clone with any namespace flag, alone or among others, and allows fork and thread flags', () => {
    const SIGCHLD = 17n;
    const THREAD = 0x3d0f00n; // glibc's pthread_create: VM|FS|FILES|SIGHAND|THREAD|SYSVSEM|SETTLS|PARENT_SETTID|CHILD_CLEARTID
    for (const [name, flag] of Object.entries(CLONE_NAMESPACE_FLAGS)) {
      for (const flags of [BigInt(flag), BigInt(flag) | SIGCHLD, BigInt(flag) | THREAD, 0x7e020000n | SIGCHLD]) {
        expect({ name, flags, errno: answer(profile.rules, 'clone', [flags]) }).toEqual({ name, flags, errno: EPERM });
      }
    }
    expect(answer(profile.rules, 'clone', [SIGCHLD])).toBeUndefined();
    expect(answer(profile.rules, 'clone', [THREAD])).toBeUndefined();
    // 0x80 (CLONE_NEWTIME for clone3 and unshare) is part of the exit signal in clone's flags
    expect(answer(profile.rules, 'clone', [0x80n | SIGCHLD])).toBeUndefined();
  });

  it('allows personality for exactly the values Docker allows', () => {
    const allowed = [0x0n, 0x8n, 0x20000n, 0x20008n, 0xffffffffn];
    for (const value of allowed) expect({ value, errno: answer(profile.rules, 'personality', [value]) }).toEqual({ value, errno: undefined });
    const probes = [
      ...allowed.flatMap((value) => [value - 1n, value + 1n, value + (1n << 32n), value | (1n << 63n)]),
      ...Array.from({ length: 64 }, (_, bit) => 1n << BigInt(bit)),
      0x40000n, 0xfffffffen, MASK64, ...values(4000),
    ].filter((value) => value >= 0n && value <= MASK64 && !allowed.includes(value));
    for (const value of probes) expect({ value, errno: answer(profile.rules, 'personality', [value]) }).toEqual({ value, errno: EPERM });
  });

  it('never compares one argument twice in a rule (libseccomp refuses it, runc would OR the comparisons)', () => {
    for (const rule of profile.rules) {
      const indexes = rule.args.map((arg) => arg.index);
      expect(new Set(indexes).size).toBe(indexes.length);
      for (const arg of rule.args) {
        expect(arg.index).toBeGreaterThanOrEqual(0);
        expect(arg.index).toBeLessThanOrEqual(5);
        expect(arg.value).toBeLessThanOrEqual(0xffffffff);
      }
    }
  });

  it('is a fresh object on every call', () => {
    const first = seccompProfile();
    first.rules.find((rule) => rule.syscall === 'clone')!.args[0]!.value = 0;
    first.rules.length = 0;
    expect(seccompProfile()).toEqual(profile);
  });
});

describe('exceptValues', () => {
  it('matches every 32-bit value around the allowed ones, and nothing allowed', () => {
    const alternatives = exceptValues(1, [5, 6, 100]);
    const rules = alternatives.map((args) => ({ syscall: 'x', errno: 1, args }));
    for (let value = 0n; value < 300n; value++) {
      const expected = [5n, 6n, 100n].includes(value) ? undefined : 1;
      expect({ value, errno: answer(rules, 'x', [0n, value]) }).toEqual({ value, errno: expected });
    }
    expect(answer(rules, 'x', [0n, 0xffffffffn])).toBe(1);
    expect(answer(rules, 'x', [0n, 1n << 40n])).toBe(1);
  });

  it('refuses a value wider than 32 bits', () => {
    expect(() => exceptValues(0, [2 ** 32])).toThrow('exceptValues allowed: expected 32-bit unsigned integers, found 4294967296');
  });
});

describe('allowSyscalls', () => {
  it('allows the named syscalls back and says so in the name', () => {
    const profile = seccompProfile({ allowSyscalls: ['unshare'] });
    expect(profile.name).toBe('rigor-default-v1+allow(unshare)');
    expect(answer(profile.rules, 'unshare', [0x10000000n])).toBeUndefined();
    expect(profile.rules).toEqual(seccompProfile().rules.filter((rule) => rule.syscall !== 'unshare'));
  });

  it('names the same set the same way, sorted and without repeats', () => {
    const profile = seccompProfile({ allowSyscalls: ['unshare', 'keyctl', 'unshare'] });
    expect(profile.name).toBe('rigor-default-v1+allow(keyctl,unshare)');
    expect(seccompProfile({ allowSyscalls: ['keyctl', 'unshare'] })).toEqual(profile);
    expect(seccompProfile({ allowSyscalls: [] }).name).toBe('rigor-default-v1');
  });

  it('drops every rule of a conditional syscall', () => {
    const profile = seccompProfile({ allowSyscalls: ['clone', 'personality', 'clone3'] });
    expect(profile.rules.filter((rule) => ['clone', 'clone3', 'personality'].includes(rule.syscall))).toEqual([]);
    expect(answer(profile.rules, 'clone', [0x10000000n])).toBeUndefined();
  });

  it('refuses a syscall the profile does not deny, naming the field, what it expected and what it found', () => {
    expect(() => seccompProfile({ allowSyscalls: ['getpid'] })).toThrow(/^sandbox spec allowSyscalls: expected syscalls that rigor-default-v1 denies \(create_module, .*unshare.*\), found "getpid"$/);
  });

  it('refuses a name that is no syscall, and a non-string', () => {
    expect(() => seccompProfile({ allowSyscalls: ['unshare', 'unshar'] })).toThrow(/sandbox spec allowSyscalls: expected syscalls .* found "unshar"$/);
    expect(() => seccompProfile({ allowSyscalls: [42 as unknown as string] })).toThrow(/sandbox spec allowSyscalls: expected syscalls .* found 42$/);
  });

  it('refuses a value that is not an array', () => {
    expect(() => seccompProfile({ allowSyscalls: 'unshare' as unknown as string[] })).toThrow('sandbox spec allowSyscalls: expected an array of syscall names, found "unshare"');
  });
});

describe('ociSeccomp', () => {
  const profile = seccompProfile();
  const oci = ociSeccomp(profile);

  it('is linux.seccomp as runc reads it: default allow, the three x86 arches, errno actions', () => {
    expect(oci.defaultAction).toBe('SCMP_ACT_ALLOW');
    expect(oci.architectures).toEqual(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
    for (const entry of oci.syscalls) {
      expect(entry.action).toBe('SCMP_ACT_ERRNO');
      expect([EPERM, ENOSYS]).toContain(entry.errnoRet);
      expect(entry.names.length).toBeGreaterThan(0);
    }
    expect(JSON.parse(JSON.stringify(oci))).toEqual(oci);
  });

  it('holds exactly the profile\'s rules: unconditional ones grouped, conditional ones one entry each', () => {
    const rules = oci.syscalls.flatMap((entry) =>
      entry.names.map((syscall) => ({ syscall, errno: entry.errnoRet, args: (entry.args ?? []).map(({ index, op, value, valueTwo }) => ({ index, op, value, ...(op === 'SCMP_CMP_MASKED_EQ' ? { valueTwo } : {}) })) })),
    );
    const key = (rule: SeccompRule) => JSON.stringify(rule);
    expect(rules.map(key).sort()).toEqual(profile.rules.map(key).sort());
    const plain = oci.syscalls.filter((entry) => !entry.args);
    expect(plain.map((entry) => entry.errnoRet).sort()).toEqual([EPERM, ENOSYS]);
    for (const entry of oci.syscalls.filter((entry) => entry.args)) expect(entry.names).toHaveLength(1);
  });

  it('writes clone\'s namespace check as Docker does: arg 0, masked equality, valueTwo present', () => {
    const clone = oci.syscalls.filter((entry) => entry.names.includes('clone'));
    expect(clone.map((entry) => entry.args)).toEqual(
      Object.values(CLONE_NAMESPACE_FLAGS).map((flag) => [{ index: 0, value: flag, valueTwo: flag, op: 'SCMP_CMP_MASKED_EQ' }]),
    );
  });
});

describe('compilerInput', () => {
  it('is the default action, the arches and one deny line per rule', () => {
    const profile: SeccompProfile = seccompProfile();
    const lines = compilerInput(profile).trimEnd().split('\n');
    expect(lines.slice(0, 3)).toEqual(['# rigor-default-v1', 'default allow', 'arch x86_64 x86 x32']);
    expect(lines.slice(3)).toHaveLength(profile.rules.length);
    expect(lines).toContain('deny 1 keyctl');
    expect(lines).toContain('deny 38 clone3');
    expect(lines).toContain('deny 1 clone 0 masked_eq 0x10000000 0x10000000');
    expect(lines).toContain('deny 1 personality 0 gt 0xffffffff');
    // the gap 1..7 between the allowed 0 and 8, as aligned blocks {1}, {2,3}, {4..7}
    expect(lines).toContain('deny 1 personality 0 masked_eq 0xffffffff 0x1');
    expect(lines).toContain('deny 1 personality 0 masked_eq 0xfffffffe 0x2');
    expect(lines).toContain('deny 1 personality 0 masked_eq 0xfffffffc 0x4');
  });
});
