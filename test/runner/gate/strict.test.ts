import { describe, expect, it } from 'vitest';
import type { Artifact } from '../../../runner/artifact/schema.ts';
import { evaluateGates } from '../../../runner/gate/evaluate.ts';
import { ratioGoals } from '../../../runner/gate/ratio-goals.ts';
import { findUnchecked, strictExitCode, strictMode, type UncheckedInput } from '../../../runner/gate/strict.ts';
import type { RigInput } from '../../../runner/rig/schema.ts';
import { buildArtifact, lognormalSamples, type ArtifactSpec, type CellSpec } from '../../helpers/artifact-builder.ts';

const RELATIVE = { metric: 'time_ms', stat: 'median' as const, max_ratio: 1.3 };
const ABSOLUTE = { metric: 'time_ms', stat: 'median' as const, max: 1000 };
const MISSING = 'backend docker unavailable: docker not on PATH';

const measured = (backend: string, seed: number): CellSpec => ({ params: { backend }, samples: { time_ms: lognormalSamples(20, 10, 0.02, seed) } });
const skipped = (backend: string): CellSpec => ({ params: { backend }, status: 'skipped', reason: MISSING });

function artifact(cells: CellSpec[], extra: Partial<ArtifactSpec> = {}): Artifact {
  return buildArtifact({ cells, ...extra });
}

/** What `rigor gate` (or `rigor run`) would find unchecked for this candidate and baseline. */
function unchecked(verb: UncheckedInput['verb'], candidate: Artifact, baseline?: Artifact) {
  const { gates, metrics } = candidate.rig.definition;
  const results = evaluateGates(gates, metrics, candidate, verb === 'gate' ? baseline : undefined);
  return findUnchecked({ verb, gates, results, goals: ratioGoals(candidate.ratios), candidate, ...(baseline && { baseline }) });
}

describe('strictMode', () => {
  it('is on when CI is set to anything but empty, "false" or "0"', () => {
    for (const ci of ['true', '1', 'yes', 'github']) expect(strictMode(undefined, { CI: ci })).toEqual({ strict: true, source: `CI=${ci}` });
    for (const ci of ['false', 'FALSE', '0']) expect(strictMode(undefined, { CI: ci })).toEqual({ strict: false, source: `CI=${ci}` });
    expect(strictMode(undefined, { CI: '' })).toEqual({ strict: false, source: 'CI unset' });
    expect(strictMode(undefined, {})).toEqual({ strict: false, source: 'CI unset' });
  });

  it('--strict and --no-strict win over CI', () => {
    expect(strictMode(true, {})).toEqual({ strict: true, source: '--strict' });
    expect(strictMode(false, { CI: 'true' })).toEqual({ strict: false, source: '--no-strict' });
  });
});

describe('findUnchecked: what a gate did not check', () => {
  const gates: RigInput['gates'] = [RELATIVE, ABSOLUTE];

  it('finds nothing when every gate judged every cell it applies to', () => {
    const candidate = artifact([measured('bwrap', 1), measured('runc', 2)], { gates });
    const baseline = artifact([measured('bwrap', 3), measured('runc', 4)], { gates });
    expect(unchecked('gate', candidate, baseline)).toEqual([]);
    expect(unchecked('run', candidate)).toEqual([]);
  });

  it('a run whose every cell was skipped measured nothing: one reason, not one per gate', () => {
    const candidate = artifact([skipped('docker'), skipped('podman')], { gates });
    const expected = { kind: 'nothing-checked', reason: 'every cell (2) was skipped or failed: this run measured nothing' };
    expect(unchecked('run', candidate)).toEqual([expected]);
    expect(unchecked('gate', candidate, artifact([measured('docker', 1)], { gates }))).toEqual([
      { kind: 'nothing-checked', reason: 'every cell (2) was skipped or failed: the candidate measured nothing' },
    ]);
  });

  it('a relative gate without a baseline checked nothing in `rigor gate`; `rigor run` leaves it to `rigor gate`', () => {
    const candidate = artifact([measured('bwrap', 1), measured('runc', 2)], { gates });
    expect(unchecked('gate', candidate)).toEqual([
      { kind: 'nothing-checked', reason: 'gate #0 (median time_ms ≤ 1.3× baseline) checked nothing: it compares with a baseline and none was given (--baseline)' },
    ]);
    expect(unchecked('run', candidate)).toEqual([]);
  });

  it('a baseline that lacks cells the candidate measured leaves them unchecked', () => {
    const candidate = artifact([measured('bwrap', 1), measured('runc', 2)], { gates });
    const baseline = artifact([measured('bwrap', 3)], { gates });
    expect(unchecked('gate', candidate, baseline)).toEqual([
      { kind: 'unchecked-cell', reason: 'gate #0 (median time_ms ≤ 1.3× baseline) did not check backend=runc: cell backend=runc is not in the baseline' },
    ]);
  });

  it('a cell skipped on this host is not a failure unless a gate names it; a named cell that is missing is', () => {
    const cells = [measured('bwrap', 1), skipped('docker')];
    expect(unchecked('gate', artifact(cells, { gates }), artifact(cells, { gates }))).toEqual([]);

    const named = artifact(cells, { gates: [{ ...ABSOLUTE, where: { backend: 'docker' } }] });
    expect(unchecked('run', named)).toEqual([
      { kind: 'nothing-checked', reason: `gate #0 (median time_ms ≤ 1000) checked nothing: backend=docker: candidate cell skipped: ${MISSING}` },
    ]);
    const absent = artifact(cells, { gates: [{ ...ABSOLUTE, where: { backend: 'qemu' } }] });
    expect(unchecked('gate', absent)).toEqual([
      { kind: 'nothing-checked', reason: 'gate #0 (median time_ms ≤ 1000) checked nothing: no cell matches where backend=qemu' },
    ]);
    const partly = artifact(
      [
        { params: { backend: 'bwrap', net: 'none' }, samples: { time_ms: [1, 2, 3] } },
        { params: { backend: 'bwrap', net: 'egress' }, status: 'skipped', reason: 'no proxy' },
      ],
      { gates: [{ ...ABSOLUTE, where: { backend: 'bwrap' } }] },
    );
    expect(unchecked('run', partly)).toEqual([
      { kind: 'unchecked-cell', reason: 'gate #0 (median time_ms ≤ 1000) did not check backend=bwrap,net=egress: candidate cell skipped: no proxy' },
    ]);
  });

  it('a failed cell is unchecked even under a gate without `where`', () => {
    const candidate = artifact([measured('bwrap', 1), { params: { backend: 'runc' }, status: 'failed', reason: 'exit 1' }], { gates: [ABSOLUTE] });
    expect(unchecked('run', candidate)).toEqual([
      { kind: 'unchecked-cell', reason: 'gate #0 (median time_ms ≤ 1000) did not check backend=runc: candidate cell failed: exit 1' },
    ]);
  });

  it('an interrupted candidate or a failed baseline is incomplete', () => {
    const candidate = artifact([measured('bwrap', 1)], { gates, status: 'interrupted' });
    const baseline = artifact([measured('bwrap', 2)], { gates, status: 'failed' });
    baseline.run.error = 'the workload crashed';
    expect(unchecked('gate', candidate, baseline)).toEqual([
      { kind: 'incomplete', reason: 'the candidate run was interrupted: its cells are incomplete' },
      { kind: 'incomplete', reason: 'the baseline run failed: its cells are incomplete (the workload crashed)' },
    ]);
    expect(unchecked('run', candidate)).toEqual([{ kind: 'incomplete', reason: 'this run was interrupted: its cells are incomplete' }]);
  });

  it('a missed ratio goal, and one whose side was not measured, are gates that did not pass', () => {
    const ratios: RigInput['ratios'] = [
      { name: 'runc_over_bwrap', of: { metric: 'time_ms', where: { backend: 'runc' } }, to: { metric: 'time_ms', where: { backend: 'bwrap' } }, goal: { max: 1.5 } },
      { name: 'docker_over_bwrap', of: { metric: 'time_ms', where: { backend: 'docker' } }, to: { metric: 'time_ms', where: { backend: 'bwrap' } }, goal: { max: 3 } },
      { name: 'bwrap_over_runc', of: { metric: 'time_ms', where: { backend: 'bwrap' } }, to: { metric: 'time_ms', where: { backend: 'runc' } }, goal: { max: 1 } },
      { name: 'no_goal', of: { metric: 'time_ms', where: { backend: 'runc' } }, to: { metric: 'time_ms', where: { backend: 'bwrap' } } },
    ];
    const candidate = artifact(
      [{ params: { backend: 'bwrap' }, samples: { time_ms: [10, 10, 10] } }, { params: { backend: 'runc' }, samples: { time_ms: [20, 20, 20] } }, skipped('docker')],
      { ratios },
    );
    const found = unchecked('run', candidate);
    expect(found.map((f) => f.kind)).toEqual(['goal-missed', 'unchecked-cell']);
    expect(found[0]!.reason).toMatch(/^ratio goal runc_over_bwrap ≤ 1\.5× missed: 20 ms \/ 10 ms = 2\.00× .*missed by 1\.33×$/);
    expect(found[1]!.reason).toBe(`ratio goal docker_over_bwrap ≤ 3× not checked: not computed: backend=docker skipped: ${MISSING}`);
    expect(unchecked('gate', candidate)).toEqual(found);
  });

  it('`rigor gate` on a rig with no gates and no ratio goals checked nothing; `rigor run` only measured', () => {
    const candidate = artifact([measured('bwrap', 1)]);
    expect(unchecked('gate', candidate)).toEqual([{ kind: 'nothing-checked', reason: 'the rig defines no gates and no ratio goals: nothing to check' }]);
    expect(unchecked('run', candidate)).toEqual([]);
  });
});

describe('strictExitCode', () => {
  const found = [{ kind: 'incomplete' as const, reason: 'the candidate run was interrupted: its cells are incomplete' }];
  it('fails what was not checked in strict mode only', () => {
    expect(strictExitCode(found, { strict: true, source: 'CI=true' })).toBe(1);
    expect(strictExitCode(found, { strict: false, source: 'CI unset' })).toBe(0);
    expect(strictExitCode([], { strict: true, source: '--strict' })).toBe(0);
  });
});
