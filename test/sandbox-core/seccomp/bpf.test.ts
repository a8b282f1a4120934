import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileSeccomp, seccompBpf, seccompCompilerPath, seccompProfile, type SeccompProfile } from '../../../sandbox-core/seccomp/index.ts';

const build = await seccompCompilerPath().then(
  (path) => ({ ok: true as const, path }),
  (error: Error) => ({ ok: false as const, reason: error.message }),
);
const skipReason = build.ok ? '' : ` (skipped: ${build.reason})`;
/** The kernel refuses a filter longer than BPF_MAXINSNS instructions. */
const BPF_MAXINSNS = 4096;

/** The compiler run on `input`: exit code, stdout bytes, stderr text. */
async function runCompiler(input: string) {
  const result = await execa(build.ok ? build.path : 'false', [], { input, encoding: 'buffer', reject: false, stripFinalNewline: false });
  return { exitCode: result.exitCode, stdout: Buffer.from(result.stdout), stderr: Buffer.from(result.stderr).toString() };
}

describe.skipIf(!build.ok)(`the seccomp compiler${skipReason}`, () => {
  it('compiles the default profile into a BPF program the kernel accepts the size of, knowing every name', async () => {
    const { bpf, skipped } = await compileSeccomp(seccompProfile());
    expect(skipped).toEqual([]);
    expect(bpf.length % 8).toBe(0);
    expect(bpf.length / 8).toBeLessThanOrEqual(BPF_MAXINSNS);
    // libseccomp's first instruction loads seccomp_data.arch (BPF_LD|BPF_W|BPF_ABS, offset 4)
    expect([bpf.readUInt16LE(0), bpf.readUInt32LE(4)]).toEqual([0x20, 4]);
  });

  it('is deterministic, and a profile with a name allowed back is another program', async () => {
    const [first, second, unshare] = await Promise.all([
      compileSeccomp(seccompProfile()),
      compileSeccomp(seccompProfile()),
      compileSeccomp(seccompProfile({ allowSyscalls: ['unshare'] })),
    ]);
    expect(first.bpf.equals(second.bpf)).toBe(true);
    expect(unshare.bpf.equals(first.bpf)).toBe(false);
    expect(unshare.bpf.length).toBeLessThan(first.bpf.length);
  });

  it('compiles each profile once per process', async () => {
    const profile = seccompProfile({ allowSyscalls: ['keyctl'] });
    const first = await seccompBpf(profile);
    expect(await seccompBpf(seccompProfile({ allowSyscalls: ['keyctl'] }))).toBe(first);
    expect(await seccompBpf(seccompProfile())).not.toBe(first);
  });

  it('skips a syscall libseccomp does not know, names it on stderr, and builds the rest', async () => {
    const profile: SeccompProfile = { ...seccompProfile(), name: 'test', rules: [{ syscall: 'no_such_syscall', errno: 1, args: [] }, { syscall: 'keyctl', errno: 1, args: [] }] };
    const { bpf, skipped } = await compileSeccomp(profile);
    expect(skipped).toEqual(['no_such_syscall']);
    expect(bpf.length).toBeGreaterThan(0);
    const direct = await runCompiler('deny 1 no_such_syscall\ndeny 1 keyctl\ndeny 1 no_such_syscall 0 eq 1\n');
    expect(direct.exitCode).toBe(0);
    // named once, however many lines it is on
    expect(direct.stderr).toMatch(/^rigor-seccomp-compiler: skipped syscalls unknown to libseccomp \d+\.\d+\.\d+: no_such_syscall\n$/);
  });

  it('is quiet on success: only BPF on stdout, nothing on stderr', async () => {
    const result = await runCompiler('# comment\n\ndefault allow\narch x86_64\ndeny 1 keyctl\n');
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout.length % 8).toBe(0);
  });

  it.each([
    ['bogus\n', 'line 1: expected default, arch or deny, found "bogus"'],
    ['default allow\ndeny 0 keyctl\n', 'line 2: expected an errno from 1 to 4095, found "0"'],
    ['deny 1 keyctl 0 masked_eq 5\n', 'line 1: expected masked_eq <mask> <value>, found no value'],
    ['deny 1 keyctl 6 eq 5\n', 'line 1: expected an argument index from 0 to 5, found "6"'],
    ['deny 1 keyctl 0 like 5\n', 'line 1: expected a comparison (eq ne lt le gt ge masked_eq), found "like"'],
    ['deny 1 keyctl 0 eq -5\n', 'line 1: expected a comparison value from 0 to 18446744073709551615, found "-5"'],
    ['arch x86_64 vax\n', 'line 1: expected a libseccomp arch name (x86_64, x86, x32, ...), found "vax"'],
    ['default allow\ndefault kill\n', 'line 2: expected one default line, found a second'],
  ])('refuses bad input with exit 1 and the line: %j', async (input, message) => {
    const result = await runCompiler(input);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe(`rigor-seccomp-compiler: ${message}\n`);
    expect(result.stdout.length).toBe(0);
  });

  it('exits 2 when libseccomp refuses a rule (two comparisons of one argument), and compileSeccomp says so', async () => {
    const result = await runCompiler('deny 1 personality 0 ne 0 0 ne 8\n');
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe('rigor-seccomp-compiler: line 1: libseccomp refused the rule for personality: Invalid argument\n');
    const profile: SeccompProfile = {
      ...seccompProfile(),
      name: 'broken',
      rules: [{ syscall: 'personality', errno: 1, args: [{ index: 0, op: 'SCMP_CMP_NE', value: 0 }, { index: 0, op: 'SCMP_CMP_NE', value: 8 }] }],
    };
    await expect(seccompBpf(profile)).rejects.toThrow('seccomp profile broken: the compiler failed (exit 2): rigor-seccomp-compiler: line 4: libseccomp refused the rule for personality: Invalid argument');
  });
});

describe('building the seccomp compiler without libseccomp-dev', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rigor-seccomp-nodev-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('says to apt-get install libseccomp-dev', async () => {
    // a C compiler that fails as gcc does when seccomp.h is not installed
    const cc = join(dir, 'cc');
    await writeFile(cc, '#!/bin/sh\necho "compiler.c:22:10: fatal error: seccomp.h: No such file or directory" >&2\nexit 1\n');
    await chmod(cc, 0o755);
    await expect(seccompCompilerPath({ cacheDir: join(dir, 'cache'), compiler: cc })).rejects.toThrow(
      /^building the seccomp compiler: install libseccomp-dev \(apt-get install libseccomp-dev\): .*seccomp\.h: No such file or directory/,
    );
  });
});
