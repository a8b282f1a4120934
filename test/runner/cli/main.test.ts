/** Every verb has --help; list, validate and doctor work through the real CLI. */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { rigor } from '../../helpers/cli.ts';

const VERBS = ['run', 'ab', 'list', 'validate', 'doctor', 'compare', 'gate', 'history', 'export', 'import', 'site'];

describe('rigor --help', () => {
  it('lists every verb', () => {
    const result = rigor(['--help']);
    expect(result.code).toBe(0);
    for (const verb of VERBS) expect(result.stdout).toMatch(new RegExp(`rigor ${verb}`));
  });

  it.each(VERBS)('%s --help shows its usage and an example', (verb) => {
    const result = rigor([verb, '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`rigor ${verb}`);
    expect(result.stdout).toMatch(/Examples:/);
  });

  it('reports a bad argument once, without a stack trace, and exits 2', () => {
    const result = rigor(['compare', 'no-such-a.json', 'no-such-b.json']);
    expect(result.code).toBe(2);
    expect(result.stderr.match(/^rigor: /gm)).toHaveLength(1);
    expect(result.stderr).not.toMatch(/at .*\.ts:\d+/);
  });

  it('exits 2 for an unknown verb, suggesting the nearest', () => {
    const result = rigor(['gte']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/gate/);
  });
});

describe('rigor list', () => {
  it('shows each rig with its mise task', () => {
    const result = rigor(['list']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/startup\s+.*mise run bench:startup/);
    expect(result.stdout).toContain('command');
  });
});

describe('rigor validate', () => {
  it('accepts every committed rig and artifact', () => {
    const files = [
      ...readdirSync('rigs').filter((f) => f.endsWith('.rig.yaml')).map((f) => `rigs/${f}`),
      ...readdirSync('results').flatMap((rig) => readdirSync(`results/${rig}`).filter((f) => f.endsWith('.json')).map((f) => `results/${rig}/${f}`)),
    ];
    const result = rigor(['validate', ...files]);
    expect(result.stdout.split('\n').filter((line) => line.startsWith('INVALID'))).toEqual([]);
    expect(result.stdout).toMatch(/^ok\s+rigs\/startup\.rig\.yaml/m);
    expect(result.code).toBe(0);
  });

  // The user's three params mistakes of issue 13, each once validated as ok and found out (or not) by a run.
  const params = 'test/fixtures/rigs/params';

  it('refuses misspelt optional params (setpu: for setup:) where they are written, naming the param they misspell', () => {
    const result = rigor(['validate', `${params}/misspelt-optional.rig.yaml`]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      `INVALID  ${params}/misspelt-optional.rig.yaml:8:3: params.comand: expected a parameter of sandbox.lifecycle (did you mean "command"? allowed: backend, agent, seccomp, memory_mib, ready_timeout_s, platform, kernel, machine, cmdline, runtime, serve, command), found unknown parameter "comand"`,
    );
    expect(result.stdout).toMatch(/misspelt-optional\.rig\.yaml:12:25: matrix\.include\[0\]\.seccmp: expected a parameter of sandbox\.lifecycle \(did you mean "seccomp"\? .*found unknown parameter "seccmp"/);
  });

  it('refuses a misspelt required param (rnu: for run:) at load, at the misspelling, rather than failing every cell', () => {
    const result = rigor(['validate', `${params}/rnu.rig.yaml`]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      `INVALID  ${params}/rnu.rig.yaml:8:3: params.rnu: expected a parameter of command (did you mean "run"?`,
    );
  });

  it('refuses a misspelt optional command param (setpu: for setup:) at load, rather than ignoring it', () => {
    const result = rigor(['validate', `${params}/setpu.rig.yaml`]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`INVALID  ${params}/setpu.rig.yaml:7:3: params.setpu: expected a parameter of command (did you mean "setup"?`);
  });

  it('refuses a metric in msec for the command workload at load, naming the metric, ms and msec', () => {
    const result = rigor(['validate', `${params}/msec.rig.yaml`]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^INVALID {2}test\/fixtures\/rigs\/params\/msec\.rig\.yaml:11:3: metrics\.wall_ms: expected a metric the command workload fills: wall time \(the first metric in ms\).*, found a timed metric in msec$/m);
  });

  it('names file, line and field of each invalid file and exits 1', () => {
    const result = rigor(['validate', 'rigs/startup.rig.yaml', 'test/fixtures/rigs/bad/better-faster.rig.yaml', 'package.json']);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/INVALID\s+test\/fixtures\/rigs\/bad\/better-faster\.rig\.yaml:\d+:\d+: metrics\.wall_ms\.better: expected one of lower, higher, found "faster"/);
    expect(result.stdout).toMatch(/INVALID\s+package\.json: not a valid rigor artifact/);
  });
});

describe('rigor doctor', () => {
  it('prints its checks, KVM among them, and exits 0 on this supported host', () => {
    const result = rigor(['doctor']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/kvm/i);
    expect(result.stdout).toMatch(/load/i);
  });

  it('--json is machine-readable', () => {
    const result = rigor(['doctor', '--json']);
    const report = JSON.parse(result.stdout);
    expect(Array.isArray(report.checks)).toBe(true);
    expect(['usable', 'absent', 'present-but-unusable', 'unprobed']).toContain(report.kvm.status);
  });
});
