/** The plan of a run, made without running anything: per cell its workload, params, sampling, requirements; the tools. */
import { describe, expect, it } from 'vitest';
import { parseRig } from '../../../runner/rig/load.ts';
import { planRun, usesKvm } from '../../../runner/run/plan.ts';
import { applyOverrides } from '../../../runner/rig/overrides.ts';
import { getWorkload, isWorkload, workloadChecks } from '../../../runner/workloads/index.ts';

const RIG = `name: planned
title: A rig to plan
claim: Planning computes every cell once.
workload: command
params:
  run: "{argv}"
matrix:
  program: [sh, node]
  include:
    - { program: sh, argv: [sh, -c, ":"], iterations: 5, warmup: 0 }
    - { program: node, argv: [node, -e, "0"] }
    - { program: hf, workload: harness.fidelity, argv: [true] }
    - { program: nope, workload: no.such.workload }
requires:
  - { binary: hyperfine, where: { program: hf } }
sampling: { warmup: 2, iterations: 20, concurrency: 1 }
metrics:
  wall_ms: { unit: ms, better: lower, clock: "fork requested -> child reaped" }
`;

const rig = parseRig(RIG, 'rigs/planned.rig.yaml', { workloads: (name) => name === 'no.such.workload' || isWorkload(name) }).rig;

describe('planRun', () => {
  const plan = planRun(rig, { workloads: getWorkload });
  const byId = new Map(plan.cells.map((planned) => [planned.cell.id, planned]));

  it("numbers the cells and gives each its workload: its own when the matrix names one, the rig's otherwise, none when unknown", () => {
    expect(plan.cells.map((planned) => planned.index)).toEqual([1, 2, 3, 4]);
    expect(byId.get('program=sh')!.workloadName).toBe('command');
    expect(byId.get('program=hf,workload=harness.fidelity')!.workload?.name).toBe('harness.fidelity');
    expect(byId.get('program=nope,workload=no.such.workload')!.workload).toBeUndefined();
  });

  it("substitutes each cell's params once", () => {
    expect(byId.get('program=sh')!.params!.run).toEqual(['sh', '-c', ':']);
    expect(byId.get('program=node')!.params!.run).toEqual(['node', '-e', '0']);
  });

  it("resolves sampling per cell: the cell's own iterations and warmup, the rig's otherwise, --iterations over both", () => {
    expect(byId.get('program=sh')!.sampling).toMatchObject({ iterations: 5, warmup: 0, max_iterations: 20 });
    expect(byId.get('program=node')!.sampling).toMatchObject({ iterations: 20, warmup: 2, max_iterations: 20 });
    const forced = planRun(rig, { iterations: 3, workloads: getWorkload });
    expect(forced.cells.map((planned) => planned.sampling.iterations)).toEqual([3, 3, 3, 3]);
  });

  it("collects the rig's and the workload's requirements, and the tools they name, node first", () => {
    expect(byId.get('program=hf,workload=harness.fidelity')!.requirements.map((requirement) => requirement.binary)).toContain('hyperfine');
    expect(plan.tools).toEqual([...plan.tools].sort());
    expect(plan.tools).toEqual(expect.arrayContaining(['node', 'sh', 'hyperfine']));
  });

  it("keeps the workload's complaints about params for the executor to report", () => {
    const bad = parseRig(RIG.replace('run: "{argv}"', 'run: "{argv}"\n  output: sometimes'), 'rigs/planned.rig.yaml', { workloads: (name) => name === 'no.such.workload' || isWorkload(name) }).rig;
    const planned = planRun(bad, { workloads: getWorkload }).cells.find((cell) => cell.cell.id === 'program=sh')!;
    expect(planned.problems.join('\n')).toMatch(/params\.output/);
  });

  it('checks each cell against its workload\'s params schema again after --set, axes naming cells aside', () => {
    const source = ['name: micro', 'title: t', 'claim: c', 'workload: stats.summarize', 'params: { n: 10 }', 'matrix:', '  size: [small]', 'metrics:', '  call_ms: { unit: ms, better: lower, clock: "call -> return" }'].join('\n');
    const micro = parseRig(source, 'rigs/micro.rig.yaml', workloadChecks).rig;
    expect(planRun(micro, { workloads: getWorkload }).cells[0]!.problems).toEqual([]);
    const { rig: set } = applyOverrides(micro, ['params.tsak=summarize']);
    expect(planRun(set, { workloads: getWorkload }).cells[0]!.problems).toEqual([
      'params.tsak: expected a parameter of stats.summarize (did you mean "task"? allowed: n, task), found unknown parameter "tsak"',
    ]);
  });
});

describe('usesKvm', () => {
  const planOf = (text: string) => planRun(parseRig(text, 'rigs/kvm.rig.yaml', { workloads: isWorkload }).rig, { workloads: getWorkload });
  const GZIP = `name: kvm
title: gzip levels
claim: A command rig starts no guest.
workload: command
params:
  run: "gzip -{level} -c /etc/services"
matrix:
  level: [1, 9]
metrics:
  wall_ms: { unit: ms, better: lower, clock: "fork requested -> child reaped" }
`;

  it('is false for a command rig: its run neither probes KVM nor warns about it', () => {
    expect(usesKvm(planOf(GZIP))).toBe(false);
    expect(usesKvm(planRun(rig, { workloads: getWorkload }))).toBe(false);
  });

  it('is true when a requirement asks for KVM or names qemu or firecracker', () => {
    expect(usesKvm(planOf(`${GZIP}requires:\n  - { kvm: true, where: { level: 9 } }\n`))).toBe(true);
    expect(usesKvm(planOf(GZIP.replace('"gzip -{level} -c /etc/services"', '[/usr/bin/qemu-system-x86_64, -version]')))).toBe(true);
    expect(usesKvm(planOf(`${GZIP}requires:\n  - { binary: firecracker }\n`))).toBe(true);
    // a binary named by a placeholder, as the cell fills it
    const vm = GZIP.replace('  level: [1, 9]', '  level: [1, 9]\n  include:\n    - { vm: /usr/bin/qemu-system-x86_64 }');
    expect(usesKvm(planOf(`${vm}requires:\n  - { binary: "{vm}" }\n`))).toBe(true);
  });

  it("is the sandbox workload's to say, by its backend: qemu and firecracker start guests, bwrap does not", () => {
    const sandbox = (backends: string) =>
      planOf(`name: kvm
title: lifecycle
claim: Backends.
workload: sandbox.lifecycle
matrix:
  backend: [${backends}]
metrics:
  total_ms: { unit: ms, better: lower, clock: "create requested -> destroyed" }
`);
    expect(usesKvm(sandbox('process, bwrap'))).toBe(false);
    expect(usesKvm(sandbox('bwrap, qemu'))).toBe(true);
    expect(usesKvm(sandbox('firecracker'))).toBe(true);
  });

  it("keeps a rig-wide param the rig's own workload takes out of another workload's judgement, also when --set leaves only that workload's cells", () => {
    const source = [
      'name: mixed',
      'title: t',
      'claim: c',
      'workload: stats.summarize',
      'params: { n: 10 }',
      'matrix:',
      '  tool: [ours, bare]',
      '  include:',
      '    - { tool: bare, workload: command, run: [sh, -c, ":"] }',
      'metrics:',
      '  call_ms: { unit: ms, better: lower, clock: "call -> return" }',
    ].join('\n');
    const mixed = parseRig(source, 'rigs/mixed.rig.yaml', workloadChecks).rig;
    const { rig: onlyBare } = applyOverrides(mixed, ['tool=bare']);
    const [bare] = planRun(onlyBare, { workloads: getWorkload }).cells;
    expect(bare!.workloadName).toBe('command');
    expect(bare!.problems).toEqual([]);
  });
});
