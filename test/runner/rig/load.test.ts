import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../../base/errors.ts';
import { RigError } from '../../../runner/rig/errors.ts';
import { loadRig, parseRig } from '../../../runner/rig/load.ts';

const dir = 'test/fixtures/rigs';
const workloads = (name: string) => ['command', 'sandbox.lifecycle', 'policy'].includes(name);
const batched = (name: string) => name === 'policy';

function problemsOf(path: string): RigError {
  try {
    loadRig(path, { workloads, batched });
  } catch (error) {
    if (error instanceof RigError) return error;
    throw error;
  }
  throw new Error(`${path} loaded, but it is a bad fixture`);
}

/** Each bad fixture and a line its error must contain: line:column, field, expected, found. */
const bad: Record<string, string> = {
  'yaml-syntax': ':9:1: (yaml): expected valid YAML, found Flow sequence in block collection must be sufficiently indented',
  'tab-indented': ':8:1: (yaml): expected valid YAML, found Tabs are not allowed as indentation',
  'duplicate-key': ':9:1: (yaml): expected valid YAML, found Map keys must be unique',
  'missing-name': ':2:1: name: expected a field "name" (the file name without .rig.yaml',
  'missing-metrics': ':2:1: metrics: expected a field "metrics", found nothing',
  'missing-workload': ':2:1: workload: expected a field "workload"',
  'wrong-types': ':6:9: params: expected a mapping, found a list of 2',
  'unknown-field': ':11:3: sampling.iteratons: expected a known field (did you mean "iterations"? allowed: warmup, iterations,',
  'misspelt-required-field': ':7:1: metric: expected a known field (did you mean "metrics"?',
  'bad-clock': ':8:46: metrics.wall_ms.clock: expected a clock "<start event> -> <stop event>", e.g. "spawn() called -> child exited", found "spawn to exit"',
  'better-faster': ':8:32: metrics.wall_ms.better: expected one of lower, higher, found "faster"',
  'too-many-samples': ':8:47: sampling.max_iterations: expected at most 16666 samples per cell, so that 4 cells × 1 metric(s) of raw samples stay under 2 MB, found 100000 (about 12 MB of samples)',
  'too-many-batches': ':8:25: sampling.iterations: expected at most 10416 samples per cell, so that 4 cells × 1 metric(s) of raw samples stay under 2 MB, found 15000 (about 3 MB of samples)',
  'batches-past-iterations': ':7:46: sampling.max_iterations: expected at most iterations (100): a micro-benchmark takes iterations batches and fills min_seconds by making them longer, found 500',
  'negative-iterations': ':9:36: sampling.iterations: expected an integer >= 1, found -3',
  'gate-undeclared-metric': ':10:15: gates[0].metric: expected a metric declared in metrics (wall_ms; did you mean "wall_ms"?), found "wall_ns"',
  'gate-without-bound': ':10:5: gates[0]: expected at least one of the fields max, min, found none of them',
  'gate-ratio-at-most-one': ':10:35: gates[0].max_ratio: expected a number > 1, found 0.9',
  'relative-gate-with-max': ':10:40: gates[0].max: expected a known field (did you mean "max_ratio"? allowed: metric, stat, max_ratio, alpha, where), found unknown field "max"',
  'gate-min-above-max': ':10:29: gates[0].min: expected min <= max (2), found 10',
  'where-unknown-axis': ':12:41: gates[0].where.backnd: expected a matrix axis or include key (backend; did you mean "backend"?), found "backnd"',
  'where-matches-no-cell': ':12:39: gates[0].where: expected a selection that matches at least one cell, found no cell with backend=runc',
  'name-mismatch': ':2:7: name: expected "name-mismatch" (the file name without .rig.yaml), found "some-other-name"',
  'unknown-workload': ':5:11: workload: expected a registered workload or "command" (rigor list shows them), found "sandbox.lifecyle"',
  'empty-axis': ':8:12: matrix.backend: expected a list of at least 1 value, found a list of 0',
  'duplicate-axis-values': ':8:29: matrix.backend[2]: expected values that differ (matrix.backend[0] is the same), found "process" again',
  'max-iterations-below-iterations': ':10:19: sampling.max_iterations: expected an integer >= iterations (10, the default), found 5',
  'bad-requires-key': ':10:7: requires[0].bin: expected a known field (did you mean "binary"? allowed: binary, root, kvm, where), found unknown field "bin"',
  'requires-nothing': ':10:5: requires[0]: expected at least one of binary, root, kvm, found none',
  'metrics-empty': ':7:10: metrics: expected at least 1 entry, found none',
  'bad-metric-name': ':8:3: metrics.Wall-MS: expected a lower-case name of letters, digits, - and _, found "Wall-MS"',
  'exclude-unknown-axis': ':10:9: matrix.exclude[0].backnd: expected a matrix axis (backend; did you mean "backend"?), found "backnd"',
  'matrix-reserved-axis': ':8:13: matrix.include[0]: expected a mapping (matrix.include is reserved',
  'all-cells-excluded': ':8:3: matrix: expected at least one cell, found none (exclude removes every combination)',
  'duplicate-cells': ':9:5: matrix.include: expected include entries that make distinct cells (add a scalar key that tells them apart), found two cells "runner=bwrap"',
  'unknown-placeholder': ':6:16: params.run: expected {runtime} to name a param or matrix key (run, runner, scratch) (write {{ for a literal brace), found "{runtime} run demo"',
  'run-setup-placeholder':
    ':6:8: setup: expected {scratch} as the only placeholder (the run\'s setup runs once for the whole run, so no cell\'s params reach it; write {{ for a literal brace), found "head -c {size} /dev/urandom > {scratch}/input"',
  'run-setup-not-a-command': ':6:8: setup: expected a string or list, found a mapping',
  'scratch-param': ':8:3: params.scratch: expected a name other than scratch ({scratch} is the run\'s scratch directory), found "scratch"',
  'not-a-mapping': ':2:1: (top level): expected a mapping, found a list of 2',
  'empty-file': ':1:1: (top level): expected a mapping, found an empty document',
  'many-problems': ':10:25: sampling.iterations: expected an integer >= 1, found 0',
  'published-undeclared-metric': ':10:121: published[0].metric: expected a metric declared in metrics (wall_ms), found "wall_sec"',
  'published-many-cells': ':13:137: published[0].where: expected a selection of exactly one cell, found 2 cells (backend=bwrap,mode=cold; backend=bwrap,mode=warm)',
  'show-unknown-stat': ':8:93: metrics.wall_ms.show[1]: expected one of min, max, mean, median, p50, p90, p95, p99, found "avg"',
  'show-twice': ':8:98: metrics.wall_ms.show[2]: expected values that differ ([0] is the same), found "p95" again',
  'show-batched':
    ':12:5: metrics.call_ms.show: expected no show (workload policy times batches: its metrics are shown by their slope, and as a batch averages its calls no per-call mean or percentile is measured), found show: [mean, p95]',
  'published-without-source': ':10:5: published[0].source: expected a field "source" (where it is written: a URL, or owner/repo/path at a commit), found nothing',
};

describe('bad rig fixtures', () => {
  it('has an expected error for every fixture on disk, and a fixture for every entry', () => {
    const files = readdirSync(`${dir}/bad`).map((file) => file.replace(/\.rig\.yaml$/, ''));
    expect(files.sort()).toEqual(Object.keys(bad).sort());
  });

  for (const [name, expected] of Object.entries(bad)) {
    it(`${name}: ${expected}`, () => {
      const path = `${dir}/bad/${name}.rig.yaml`;
      const error = problemsOf(path);
      expect(error.message.split('\n')).toContainEqual(expect.stringContaining(`${path}${expected}`));
    });
  }

  it('collects every problem of a file, not only the first, sorted by position', () => {
    const error = problemsOf(`${dir}/bad/many-problems.rig.yaml`);
    expect(error.problems.map((p) => [p.line, p.field])).toEqual([
      [2, 'workload'],
      [7, 'matrix.backend[1]'],
      [10, 'sampling.iterations'],
      [10, 'sampling.timeout_s'],
      [12, 'gates[0].metric'],
    ]);
  });

  it('gives structured problems with file, line, column, field, expected and found', () => {
    const [problem] = problemsOf(`${dir}/bad/negative-iterations.rig.yaml`).problems;
    expect(problem).toEqual({
      file: `${dir}/bad/negative-iterations.rig.yaml`,
      line: 9,
      column: 36,
      field: 'sampling.iterations',
      expected: 'an integer >= 1',
      found: '-3',
    });
  });

  it('reports a misspelt required field once, as the typo', () => {
    expect(problemsOf(`${dir}/bad/misspelt-required-field.rig.yaml`).problems).toHaveLength(1);
  });

  it('is an InputError, so the CLI exits 2 without a stack trace', () => {
    expect(problemsOf(`${dir}/bad/empty-axis.rig.yaml`)).toBeInstanceOf(InputError);
  });
});

describe('good rig fixtures', () => {
  for (const file of readdirSync(`${dir}/good`)) {
    it(`${file} loads`, () => {
      const path = `${dir}/good/${file}`;
      const loaded = loadRig(path, { workloads });
      expect(loaded.rig.name).toBe(file.replace('.rig.yaml', ''));
      expect(loaded.path).toBe(path);
      expect(loaded.sha256).toBe(createHash('sha256').update(readFileSync(path)).digest('hex'));
      expect(loaded.source).toBe(readFileSync(path, 'utf8'));
    });
  }

  it('fills defaults from the zod schema', () => {
    const { rig } = loadRig(`${dir}/good/minimal.rig.yaml`);
    expect(rig.sampling).toEqual({ warmup: 1, iterations: 10, min_seconds: 0, max_seconds: 300, timeout_s: 60, concurrency: 1 });
    expect(rig.matrix).toEqual({});
    expect(rig.gates).toEqual([]);
    expect(rig.requires).toEqual([]);
  });

  it('keeps gates apart: absolute with stat default, relative with alpha default', () => {
    const { rig } = loadRig(`${dir}/good/lifecycle.rig.yaml`);
    expect(rig.gates[0]).toEqual({ metric: 'total_ms', stat: 'p95', max: 250, where: { backend: 'bwrap', concurrency: 1 } });
    expect(rig.gates[1]).toEqual({ metric: 'total_ms', stat: 'median', max_ratio: 1.2, alpha: 0.05 });
  });
});

describe('published figures', () => {
  it('load with every field as written, beside the cell they name', () => {
    const { rig } = loadRig(`${dir}/good/published.rig.yaml`, { workloads });
    expect(rig.published).toEqual([
      {
        publisher: 'example',
        source: 'https://example.org/bench.md',
        date: '2026-01-20',
        version: 'v0.1.0',
        host: 'a laptop (as the source describes it)',
        measures: '`true` from spawn to exit, mean of 10 runs',
        metric: 'wall_ms',
        where: { spawner: 'node' },
        stat: 'mean',
        value: 1.5,
        unit: 'ms',
        as_written: '~1.5ms',
        note: "timed by the publisher's own harness",
      },
    ]);
  });

  it('are absent, not defaulted, from a rig without them (older artifacts embed rigs without the field)', () => {
    expect('published' in loadRig(`${dir}/good/minimal.rig.yaml`).rig).toBe(false);
  });

  it('report every mistake of one figure at once', () => {
    expect(problemsOf(`${dir}/bad/published-without-source.rig.yaml`).problems.map((p) => [p.line, p.field])).toEqual([
      [10, 'published[0].source'],
      [15, 'published[0].value'],
    ]);
  });
});

describe('parseRig and loadRig', () => {
  it('hash the same bytes the same way', () => {
    const path = `${dir}/good/minimal.rig.yaml`;
    expect(parseRig(readFileSync(path, 'utf8'), path).sha256).toBe(loadRig(path).sha256);
  });

  it('skip the workload check without a workloads predicate', () => {
    const source = readFileSync(`${dir}/bad/unknown-workload.rig.yaml`, 'utf8');
    expect(parseRig(source, 'rigs/unknown-workload.rig.yaml').rig.workload).toBe('sandbox.lifecyle');
  });

  it('ask for a .rig.yaml file name', () => {
    const source = readFileSync(`${dir}/good/minimal.rig.yaml`, 'utf8');
    expect(() => parseRig(source, 'minimal.yaml')).toThrow('minimal.yaml:2:1: (top level): expected a file named <name>.rig.yaml, found "minimal.yaml"');
  });

  it('turn a missing file into a RigError naming it', () => {
    expect(() => loadRig('rigs/no-such.rig.yaml')).toThrow(RigError);
    expect(() => loadRig('rigs/no-such.rig.yaml')).toThrow('rigs/no-such.rig.yaml: (file): expected a readable rig file, found ENOENT');
  });
});

describe('gate problems', () => {
  const rigWithGates = (gates: string) =>
    [
      'name: demo',
      'title: t',
      'claim: c',
      'workload: command',
      'metrics: { wall_ms: { unit: ms, better: lower, clock: "a -> b" } }',
      'gates:',
      gates,
    ].join('\n');
  const messageOf = (gates: string) => {
    try {
      parseRig(rigWithGates(gates), 'rigs/demo.rig.yaml');
    } catch (error) {
      return (error as RigError).message;
    }
    return 'loaded';
  };

  it('reads a gate with alpha as relative, so max_ratio is what is missing', () => {
    expect(messageOf('  - { metric: wall_ms, alpha: 0.01 }')).toBe(
      'rigs/demo.rig.yaml:7:5: gates[0].max_ratio: expected a field "max_ratio" (largest tolerated worsening factor (candidate/baseline for lower-is-better, baseline/candidate for higher-is-better)), found nothing',
    );
  });

  it('reads a gate without ratio fields as absolute, one problem per mistake', () => {
    expect(messageOf('  - { metric: wall_ms, stat: p42, max: 3 }')).toBe(
      'rigs/demo.rig.yaml:7:30: gates[0].stat: expected one of min, max, mean, median, p50, p90, p95, p99, found "p42"',
    );
  });

  it('says a gate that is not a mapping is not one, once', () => {
    expect(messageOf('  - wall_ms')).toBe('rigs/demo.rig.yaml:7:5: gates[0]: expected a mapping, found "wall_ms"');
  });
});

describe('metric kinds', () => {
  const withMetric = (metric: string) =>
    ['name: demo', 'title: t', 'claim: c', 'workload: callgrind', 'metrics:', `  m: ${metric}`].join('\n');
  const messageOf = (metric: string) => {
    try {
      return parseRig(withMetric(metric), 'rigs/demo.rig.yaml').rig.metrics.m;
    } catch (error) {
      return (error as RigError).message;
    }
  };

  it('lets a counted metric say what it counts instead of a start and stop event', () => {
    expect(messageOf('{ unit: instructions, better: lower, kind: counted, clock: "instructions (Ir) under callgrind" }')).toEqual({
      unit: 'instructions',
      better: 'lower',
      kind: 'counted',
      clock: 'instructions (Ir) under callgrind',
    });
  });

  it('holds a timed metric, said or by default, to "<start> -> <stop>"', () => {
    const expected = (column: number) =>
      `rigs/demo.rig.yaml:6:${column}: metrics.m.clock: expected a clock "<start event> -> <stop event>", e.g. "spawn() called -> child exited", found "instructions"`;
    expect(messageOf('{ unit: ms, better: lower, clock: instructions }')).toBe(expected(40));
    expect(messageOf('{ unit: ms, better: lower, kind: timed, clock: instructions }')).toBe(expected(53));
    expect(messageOf('{ unit: ms, better: lower, kind: tallied, clock: "a -> b" }')).toBe(
      'rigs/demo.rig.yaml:6:39: metrics.m.kind: expected one of timed, counted, found "tallied"',
    );
  });
});
