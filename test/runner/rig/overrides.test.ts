import { describe, expect, it } from 'vitest';
import { InputError } from '../../../base/errors.ts';
import { parseRig } from '../../../runner/rig/load.ts';
import { expandMatrix } from '../../../runner/rig/matrix.ts';
import { applyOverrides } from '../../../runner/rig/overrides.ts';

const { rig } = parseRig(
  `name: demo
title: t
claim: c
workload: command
params: { run: "true", opts: { level: 1 } }
matrix:
  backend: [process, bwrap, qemu]
  concurrency: [1, 4]
  include:
    - { backend: qemu, accel: tcg }
    - { backend: bwrap, label: ns }
sampling: { iterations: 20 }
metrics: { wall_ms: { unit: ms, better: lower, clock: "a -> b" } }
`,
  'rigs/demo.rig.yaml',
);

describe('applyOverrides', () => {
  it('narrows an axis to the value given, parsed as YAML', () => {
    const { rig: next, applied } = applyOverrides(rig, ['concurrency=4']);
    expect(next.matrix.concurrency).toEqual([4]);
    expect(applied).toEqual({ concurrency: 4 });
    expect(rig.matrix.concurrency).toEqual([1, 4]); // the input is not changed
  });

  it('takes a list for an axis, and allows values the rig does not list', () => {
    const { rig: next } = applyOverrides(rig, ['backend=[bwrap, firecracker]']);
    expect(next.matrix.backend).toEqual(['bwrap', 'firecracker']);
  });

  it('takes a value as the rig typed it when the axis lists it: "true" stays the string its include entries name', () => {
    const { rig: typed } = parseRig(
      `name: typed
title: t
claim: c
workload: command
params: { run: "{argv}" }
matrix:
  program: ["true", sh]
  size: [1, "2", 4]
  include:
    - { program: "true", argv: ["true"] }
    - { program: sh, argv: [sh, -c, ":"] }
metrics: { wall_ms: { unit: ms, better: lower, clock: "a -> b" } }
`,
      'rigs/typed.rig.yaml',
    );
    const { rig: next, applied } = applyOverrides(typed, ['program=true', 'size=[2, 4, 8]']);
    expect(next.matrix.program).toEqual(['true']);
    expect(next.matrix.size).toEqual(['2', 4, 8]); // a value the rig does not list keeps its YAML type
    expect(applied).toEqual({ program: 'true', size: ['2', 4, 8] });
    expect(expandMatrix(next.matrix).map((cell) => [cell.id, cell.params.argv])).toEqual([
      ['program=true,size=2', ['true']],
      ['program=true,size=4', ['true']],
      ['program=true,size=8', ['true']],
    ]);
    expect(applyOverrides(typed, ['program=[true, sh]']).rig.matrix.program).toEqual(['true', 'sh']);
  });

  it('drops include entries for axis values no longer run, so they do not come back as cells', () => {
    const { rig: next } = applyOverrides(rig, ['backend=bwrap', 'concurrency=1']);
    expect(expandMatrix(next.matrix).map((cell) => cell.id)).toEqual(['backend=bwrap,concurrency=1']);
  });

  it('sets a key an include adds in those entries and in params', () => {
    const { rig: next } = applyOverrides(rig, ['accel=kvm']);
    expect(next.matrix.include?.[0]).toEqual({ backend: 'qemu', accel: 'kvm' });
    expect(next.params.accel).toBe('kvm');
  });

  it('sets params by dotted key, new ones too, and an existing param by its bare name', () => {
    const { rig: next, applied } = applyOverrides(rig, ['params.opts.level=3', 'params.extra=[a, 1]', 'run=echo hi', 'params.empty=']);
    expect(next.params).toEqual({ run: 'echo hi', opts: { level: 3 }, extra: ['a', 1], empty: '' });
    expect(applied).toEqual({ 'params.opts.level': 3, 'params.extra': ['a', 1], run: 'echo hi', 'params.empty': '' });
  });

  it('sets sampling fields and checks them like the rig file', () => {
    expect(applyOverrides(rig, ['sampling.iterations=5']).rig.sampling.iterations).toBe(5);
    expect(() => applyOverrides(rig, ['sampling.iterations=0'])).toThrow(/--set sampling.iterations=0: sampling.iterations: expected .*, found 0/);
    expect(() => applyOverrides(rig, ['sampling.max_iterations=5'])).toThrow(/max_iterations \(5\) must be >= sampling.iterations \(20\)/);
    expect(() => applyOverrides(rig, ['sampling.iteratons=5'])).toThrow(/did you mean "iterations"/);
  });

  it('rejects a malformed --set, naming it and what was expected', () => {
    expect(() => applyOverrides(rig, ['backend'])).toThrow(InputError);
    expect(() => applyOverrides(rig, ['backend'])).toThrow(/--set backend: expected key=value/);
    expect(() => applyOverrides(rig, ['=3'])).toThrow(/expected key=value/);
    expect(() => applyOverrides(rig, ['backnd=bwrap'])).toThrow(/--set backnd=bwrap: expected a matrix axis.*did you mean "backend"/);
    expect(() => applyOverrides(rig, ['backend={a: 1}'])).toThrow(/expected a value or a list of values for matrix axis backend, found a mapping/);
    expect(() => applyOverrides(rig, ['backend=[]'])).toThrow(/matrix axis backend/);
    expect(() => applyOverrides(rig, ['params.run.x=1'])).toThrow(/params.run is "true", not a mapping/);
    expect(() => applyOverrides(rig, ['run=[a'])).toThrow(/--set run=\[a: the value is not valid YAML/);
  });
});
