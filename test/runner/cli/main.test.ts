/** Every verb has --help; list, validate and doctor work through the real CLI. */
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
  it('accepts the committed rigs and artifacts', () => {
    const result = rigor(['validate', 'rigs/startup.rig.yaml', 'rigs/harness.rig.yaml']);
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).toMatch(/^ok\s+rigs\/startup\.rig\.yaml/m);
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
