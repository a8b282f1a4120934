/**
 * The command workload's metrics beyond time, through the real CLI with real
 * commands (issue 13's user: gzip levels with output size and throughput):
 * a metric nothing fills is refused by `rigor validate` with its place in the
 * file; declared in params.metrics, each kind of source fills its samples —
 * output size, throughput, a JSON field and a pattern of stdout, a file the
 * run writes — and a value a run did not produce fails its cell, naming both.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Artifact } from '../../../runner/artifact/schema.ts';
import { validatorFor } from '../../../runner/schema/ajv.ts';
import { rigor } from '../../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'rigor-command-metrics-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** 64 KiB of text that compresses: the same for every run, made once by the run's setup. */
const INPUT_BYTES = 65_536;
const HEAD = `title: gzip levels
claim: Higher levels write fewer bytes and take longer.
workload: command
setup: "seq 1 100000 | head -c ${INPUT_BYTES} > {scratch}/input"
`;
const METRICS = `metrics:
  wall_ms: { unit: ms, better: lower, clock: "fork requested -> child reaped" }
  out_bytes: { unit: bytes, better: lower, kind: counted, clock: "bytes gzip wrote to stdout" }
  throughput_mbps: { unit: MB/s, better: higher, clock: "fork requested -> child reaped, over the input's bytes" }
`;

function write(name: string, text: string): string {
  const path = join(dir, `${name}.rig.yaml`);
  writeFileSync(path, `name: ${name}\n${text}`);
  return path;
}

function onlyArtifact(out: string): Artifact {
  const files = readdirSync(out).filter((name) => name.endsWith('.json'));
  expect(files).toHaveLength(1);
  const artifact = JSON.parse(readFileSync(join(out, files[0]!), 'utf8')) as Artifact;
  expect(validatorFor('artifact')(artifact)).toBe(true);
  return artifact;
}

describe('metrics the command workload fills', () => {
  it('refuses at validate a metric that nothing fills, naming it with its line and column', () => {
    const path = write('gzip-unfilled', `${HEAD}params:\n  run: [gzip, -c, "-{level}", "{scratch}/input"]\nmatrix:\n  level: [1, 9]\n${METRICS}`);
    const result = rigor(['validate', path]);
    expect(result.code).toBe(1);
    const problems = result.stdout.replace(/^INVALID {2}/, '').trim().split('\n');
    expect(problems).toEqual([
      `${path}:12:3: metrics.out_bytes: expected a metric the command workload fills: wall time (the first metric in ms, here wall_ms), user_ms, sys_ms, or one that params.metrics says where to read (e.g. params.metrics.out_bytes: { from: output_size }), found a counted metric in bytes`,
      `${path}:13:3: metrics.throughput_mbps: expected a metric the command workload fills: wall time (the first metric in ms, here wall_ms), user_ms, sys_ms, or one that params.metrics says where to read (e.g. params.metrics.throughput_mbps: { from: throughput, input_bytes: 1048576 }), found a timed metric in MB/s`,
    ]);
  });

  it('fills output size and throughput for gzip, and every sample is the bytes gzip wrote', () => {
    const path = write(
      'gzip-filled',
      `${HEAD}params:
  run: [gzip, -c, "-{level}", "{scratch}/input"]
  metrics:
    out_bytes: { from: output_size }
    throughput_mbps: { from: throughput, input_bytes: ${INPUT_BYTES} }
matrix:
  level: [1, 9]
sampling: { warmup: 1, iterations: 4 }
${METRICS}`,
    );
    expect(rigor(['validate', path]).stdout).toMatch(/^ok {7}.*: rig "gzip-filled", workload command, 3 metric\(s\)$/m);
    const out = join(dir, 'out-gzip');
    const result = rigor(['run', path, '--out', out, '--quiet']);
    expect(result.code, result.stderr + result.stdout).toBe(0);
    const artifact = onlyArtifact(out);
    // What gzip writes for the same input, counted by wc outside rigor.
    const input = join(dir, 'input');
    execFileSync('sh', ['-c', `seq 1 100000 | head -c ${INPUT_BYTES} > ${input}`]);
    const gzipped = (level: string) => Number(execFileSync('sh', ['-c', `gzip -c -${level} ${input} | wc -c`], { encoding: 'utf8' }));
    for (const cell of artifact.cells) {
      expect(cell.status).toBe('ok');
      expect(cell.metrics.out_bytes!.samples[0]).toBe(gzipped(String(cell.params.level)));
      const { wall_ms, out_bytes, throughput_mbps } = cell.metrics;
      expect(wall_ms!.samples).toHaveLength(4);
      expect(out_bytes!.samples).toHaveLength(4);
      expect(new Set(out_bytes!.samples).size).toBe(1);
      wall_ms!.samples.forEach((ms, i) => expect(throughput_mbps!.samples[i]).toBeCloseTo(INPUT_BYTES / 1e6 / (ms / 1000), 6));
      expect(cell.facts?.metric_sources).toEqual({ out_bytes: 'bytes of stdout', throughput_mbps: `${INPUT_BYTES} input bytes over the run's wall time` });
    }
  });

  it('fills a JSON field and a pattern of stdout and a file the run writes, and fails a cell whose run did not produce its value', () => {
    const path = write(
      'reads',
      `title: Values read from a run's output
claim: A command reports its own numbers.
workload: command
params:
  run: "{emit}"
  cwd: "{scratch}"
  metrics:
    ratio: { from: stdout, json: result.ratio }
    score: { from: stdout, pattern: "score: ([0-9.]+)" }
    lines: { from: file, path: lines.txt }
matrix:
  tool: [good, forgetful]
  include:
    - { tool: good, emit: "seq 1 7 > lines.txt; wc -l < lines.txt > lines.txt.n; mv lines.txt.n lines.txt; echo '{\\"result\\": {\\"ratio\\": 3.1}, \\"log\\": \\"score: 42.5\\"}'" }
    - { tool: forgetful, emit: "echo 3 > lines.txt; echo '{\\"result\\": {}, \\"log\\": \\"score: 1\\"}'" }
sampling: { warmup: 0, iterations: 3 }
metrics:
  wall_ms: { unit: ms, better: lower, clock: "fork requested -> child reaped" }
  ratio: { unit: x, better: higher, kind: counted, clock: "result.ratio the command printed" }
  score: { unit: points, better: higher, kind: counted, clock: "the score the command printed" }
  lines: { unit: lines, better: lower, kind: counted, clock: "lines the command counted" }
`,
    );
    const out = join(dir, 'out-reads');
    const result = rigor(['run', path, '--out', out, '--quiet']);
    expect(result.code, result.stderr).toBe(1);
    const [good, forgetful] = onlyArtifact(out).cells;
    expect(good!.status).toBe('ok');
    expect(good!.metrics.ratio!.samples).toEqual([3.1, 3.1, 3.1]);
    expect(good!.metrics.score!.samples).toEqual([42.5, 42.5, 42.5]);
    expect(good!.metrics.lines!.samples).toEqual([7, 7, 7]);
    expect(forgetful!.status).toBe('failed');
    expect(forgetful!.reason).toBe('sample 1: metric ratio (field result.ratio of stdout as JSON): field result of stdout has no field "ratio" (it is a mapping)');
  });
});
