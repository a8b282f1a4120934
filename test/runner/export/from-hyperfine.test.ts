import { describe, expect, it } from 'vitest';
import { assertValidArtifact } from '../../../runner/artifact/validate.ts';
import { InputError } from '../../../base/errors.ts';
import { artifactFromHyperfine, parseHyperfineExport, type ImportContext } from '../../../runner/export/from-hyperfine.ts';
import { commandCells, mapOntoCells } from '../../../runner/export/onto-rig.ts';
import { parseRig } from '../../../runner/rig/load.ts';
import { buildArtifact } from '../../helpers/artifact-builder.ts';

const RESULT = { command: 'true', mean: 0.001, stddev: 0.0001, median: 0.001, user: 0.0006, system: 0.0003, min: 0.0009, max: 0.0011, times: [0.0009, 0.001, 0.0011], exit_codes: [0, 0, 0] };

const parse = (data: unknown) => parseHyperfineExport(data, 'bench.json');

const TEMPLATE = buildArtifact({ cells: [] });
const CTX: ImportContext = {
  file: 'bench.json',
  sha256: 'a'.repeat(64),
  rig: 'imported-hyperfine',
  measuredAt: '2025-05-01T10:00:00.000Z',
  runId: 'run-1',
  commandLine: ['rigor', 'import', 'hyperfine', 'bench.json'],
  host: TEMPLATE.host,
  git: TEMPLATE.git,
};

describe('parseHyperfineExport', () => {
  it('reads the fields the import uses', () => {
    expect(parse({ results: [RESULT] })).toEqual([
      { command: 'true', times: RESULT.times, user: 0.0006, system: 0.0003, exit_codes: [0, 0, 0], parameters: {} },
    ]);
  });

  it.each([
    [[], 'bench.json: (top level): expected an object with "results", found an array'],
    [{ results: 'x' }, 'bench.json: results: expected an array of results, found a string'],
    [{ results: [] }, 'bench.json: results: expected at least one result, found an empty array'],
    [{ results: [{ ...RESULT, command: 3 }] }, 'bench.json: results[0].command: expected a non-empty string, found the number 3'],
    [{ results: [{ ...RESULT, times: 'fast' }] }, 'bench.json: results[0].times: expected an array of numbers, found a string'],
    [{ results: [RESULT, { ...RESULT, command: 'b', times: [0.1, '0.2'] }] }, 'bench.json: results[1].times[1]: expected a number of seconds from 0 to 1e9, found a string'],
    [{ results: [{ ...RESULT, times: [-1] }] }, 'bench.json: results[0].times[0]: expected a number of seconds from 0 to 1e9, found the number -1'],
    [{ results: [{ ...RESULT, user: 'lots' }] }, 'bench.json: results[0].user: expected a number of seconds from 0 to 1e9, or null, found a string'],
    [{ results: [{ ...RESULT, exit_codes: [0, 1.5, 0] }] }, 'bench.json: results[0].exit_codes: expected an array of integers (or null for a run killed by a signal), found the number 1.5'],
    [{ results: [{ ...RESULT, exit_codes: [0] }] }, 'bench.json: results[0].exit_codes: expected one per time (3), found 1'],
    [{ results: [{ ...RESULT, parameters: { n: 1 } }] }, 'bench.json: results[0].parameters.n: expected a string, found the number 1'],
    [{ results: [RESULT, RESULT] }, 'bench.json: results[1]: the same command and parameters as results[0] (command=true); rigor cells need distinct ones'],
    // found by fuzzing (seed 16021): 1e308 s became Infinity ms and summarize threw a RangeError
    [{ results: [{ ...RESULT, user: 1e308 }] }, 'bench.json: results[0].user: expected a number of seconds from 0 to 1e9, or null, found the number 1e+308'],
    [{ results: [{ ...RESULT, times: [1e300] }] }, 'bench.json: results[0].times[0]: expected a number of seconds from 0 to 1e9, found the number 1e+300'],
    [{ results: [{ ...RESULT, memory_usage_byte: [1, 2] }] }, 'bench.json: results[0].memory_usage_byte: expected an array of 3 byte counts (one per time), found an array'],
  ])('names file, path, expected and found: %j', (data, message) => {
    expect(() => parse(data)).toThrow(InputError);
    expect(() => parse(data)).toThrow(message);
  });

  it('tells apart two results whose commands and parameters differ but read alike once joined (a regression: both were command=a,b=c)', () => {
    const results = parse({ results: [{ ...RESULT, command: 'a,b=c' }, { ...RESULT, command: 'a', parameters: { b: 'c' } }] });
    const artifact = artifactFromHyperfine(results, CTX);
    expect(artifact.cells.map((cell) => cell.id)).toEqual(['command="a,b=c"', 'command=a,b=c']);
    assertValidArtifact(artifact, 'imported');
  });

  it('writes control characters of a command or parameter as escapes in the cell id and in refusals (a regression: they reached the terminal)', () => {
    const results = parse({ results: [{ ...RESULT, command: 'echo \u001b]0;owned\u0007\u009b2J' }] });
    const [cell] = artifactFromHyperfine(results, CTX).cells;
    expect(cell!.id).toBe('command="echo \\u001b]0;owned\\u0007\\u009b2J"');
    expect(cell!.params.command).toBe(results[0]!.command); // the data keeps the command as hyperfine ran it
    expect(() => parse({ results: [{ ...RESULT, parameters: { 'n\u001b[2J': 1 } }] })).toThrow('results[0].parameters.n\\u001b[2J: expected a string');
    expect(() => parse({ results: [{ ...RESULT, command: 'x\u001b' }, { ...RESULT, command: 'x\u001b' }] })).toThrow('(command="x\\u001b")');
  });

  it("keeps newer hyperfines' per-run peak memory", () => {
    expect(parse({ results: [{ ...RESULT, memory_usage_byte: [1000, 2000, 3000] }] })[0]!.memory_usage_byte).toEqual([1000, 2000, 3000]);
  });

  it('keeps a signal-killed run (null exit code) and a result without user/system', () => {
    const { user, system, ...bare } = RESULT;
    expect(parse({ results: [{ ...bare, exit_codes: [0, null, 0] }] })[0]).toMatchObject({ user: null, system: null, exit_codes: [0, null, 0] });
  });
});

describe('artifactFromHyperfine', () => {
  it('makes one cell per result with its command and scan parameters, wall_ms in milliseconds, marked as imported', () => {
    const results = parse({ results: [{ ...RESULT, command: 'sleep 0.1', parameters: { t: '0.1' } }, { ...RESULT, command: 'sleep 0.2', parameters: { t: '0.2' } }] });
    const artifact = artifactFromHyperfine(results, CTX);
    assertValidArtifact(artifact, 'imported');
    expect(artifact.cells.map((c) => c.id)).toEqual(['command=sleep 0.1,t=0.1', 'command=sleep 0.2,t=0.2']);
    const wall = artifact.cells[0]!.metrics.wall_ms!;
    expect(wall.samples[1]).toBeCloseTo(1, 12);
    expect(wall.summary!.n).toBe(3);
    expect(wall.clock).toMatch(/hyperfine.* -> /);
    expect(artifact.cells[0]!.facts).toEqual({ hyperfine: { user: 0.0006, system: 0.0003, exit_codes: [0, 0, 0] } });
    // hyperfine's CPU means, one value a cell, under names that say so (user_ms holds a value per run)
    expect(artifact.cells[0]!.metrics.user_mean_ms!.samples).toEqual([0.6]);
    expect(artifact.cells[0]!.metrics.sys_mean_ms!.samples).toEqual([0.3]);
    expect(artifact.rig.definition.metrics.user_mean_ms!.clock).toMatch(/mean over the command's runs/);
    expect(artifact.environment).toEqual({ imported: { format: 'hyperfine', file: 'bench.json', sha256: 'a'.repeat(64) } });
    expect(artifact.run).toMatchObject({ imported_from: 'bench.json', command_line: CTX.commandLine, started_at: CTX.measuredAt, status: 'complete' });
    expect(artifact.rig.definition).toMatchObject({ name: 'imported-hyperfine', workload: 'command' });
    expect(artifact.host.warnings.at(-1)).toMatch(/does not say where hyperfine ran/);
  });

  it("maps results onto a rig's cells: the rig's name, file, cell ids and wall metric (in its unit), hyperfine's command in facts", () => {
    const loaded = parseRig(
      `name: gzip
title: gzip
claim: Levels.
workload: command
params:
  run: "gzip -{level} -c big.txt"
matrix:
  level: [1, 6, 9]
metrics:
  wall_s: { unit: s, better: lower, clock: "fork requested -> child reaped" }
`,
      'rigs/gzip.rig.yaml',
    );
    const results = parse({ results: [{ ...RESULT, command: 'gzip -9 -c big.txt', memory_usage_byte: [1, 2, 3] }, { ...RESULT, command: 'gzip -1 -c big.txt', user: null, system: null }] });
    const mapped = mapOntoCells(results, commandCells(loaded.rig), 'bench.json', 'rigs/gzip.rig.yaml');
    const artifact = artifactFromHyperfine(results, CTX, { rig: loaded.rig, path: 'rigs/gzip.rig.yaml', sha256: loaded.sha256, overrides: {}, wall: 'wall_s', mapped });
    assertValidArtifact(artifact, 'mapped');
    expect(artifact.rig).toMatchObject({ name: 'gzip', path: 'rigs/gzip.rig.yaml', sha256: loaded.sha256 });
    expect(artifact.cells.map((cell) => [cell.id, cell.params])).toEqual([
      ['level=9', { level: 9 }],
      ['level=1', { level: 1 }],
    ]);
    expect(artifact.cells[0]!.metrics.wall_s!.samples).toEqual(RESULT.times);
    expect(artifact.cells[0]!.metrics.wall_s!.clock).toBe('fork requested -> child reaped');
    expect(artifact.cells[0]!.facts).toEqual({ hyperfine: { command: 'gzip -9 -c big.txt', user: 0.0006, system: 0.0003, exit_codes: [0, 0, 0], memory_usage_byte: [1, 2, 3] } });
    expect(Object.keys(artifact.cells[0]!.metrics)).toEqual(['wall_s', 'user_mean_ms', 'sys_mean_ms']);
    // hyperfine gave no CPU times for this one: nothing made up
    expect(Object.keys(artifact.cells[1]!.metrics)).toEqual(['wall_s']);
    expect(Object.keys(artifact.rig.definition.metrics)).toEqual(['wall_s', 'user_mean_ms', 'sys_mean_ms']);
    expect(artifact.run.imported_from).toBe('bench.json');
    expect(artifact.host.warnings.at(-1)).toMatch(/^imported from hyperfine: wall_s holds hyperfine's own times of the rig's commands/);
  });
});
