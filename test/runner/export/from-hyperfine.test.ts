import { describe, expect, it } from 'vitest';
import { assertValidArtifact } from '../../../runner/artifact/validate.ts';
import { InputError } from '../../../base/errors.ts';
import { artifactFromHyperfine, parseHyperfineExport, type ImportContext } from '../../../runner/export/from-hyperfine.ts';
import { buildArtifact } from '../../helpers/artifact-builder.ts';

const RESULT = { command: 'true', mean: 0.001, stddev: 0.0001, median: 0.001, user: 0.0006, system: 0.0003, min: 0.0009, max: 0.0011, times: [0.0009, 0.001, 0.0011], exit_codes: [0, 0, 0] };

const parse = (data: unknown) => parseHyperfineExport(data, 'bench.json');

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
    [{ results: [RESULT, { ...RESULT, command: 'b', times: [0.1, '0.2'] }] }, 'bench.json: results[1].times[1]: expected a finite number of seconds >= 0, found a string'],
    [{ results: [{ ...RESULT, times: [-1] }] }, 'bench.json: results[0].times[0]: expected a finite number of seconds >= 0, found the number -1'],
    [{ results: [{ ...RESULT, user: 'lots' }] }, 'bench.json: results[0].user: expected a number of seconds >= 0 or null, found a string'],
    [{ results: [{ ...RESULT, exit_codes: [0, 1.5, 0] }] }, 'bench.json: results[0].exit_codes: expected an array of integers (or null for a run killed by a signal), found the number 1.5'],
    [{ results: [{ ...RESULT, exit_codes: [0] }] }, 'bench.json: results[0].exit_codes: expected one per time (3), found 1'],
    [{ results: [{ ...RESULT, parameters: { n: 1 } }] }, 'bench.json: results[0].parameters.n: expected a string, found the number 1'],
    [{ results: [RESULT, RESULT] }, 'bench.json: results[1]: the same command and parameters as results[0] (command=true); rigor cells need distinct ones'],
  ])('names file, path, expected and found: %j', (data, message) => {
    expect(() => parse(data)).toThrow(InputError);
    expect(() => parse(data)).toThrow(message);
  });

  it('keeps a signal-killed run (null exit code) and a result without user/system', () => {
    const { user, system, ...bare } = RESULT;
    expect(parse({ results: [{ ...bare, exit_codes: [0, null, 0] }] })[0]).toMatchObject({ user: null, system: null, exit_codes: [0, null, 0] });
  });
});

describe('artifactFromHyperfine', () => {
  const template = buildArtifact({ cells: [] });
  const ctx: ImportContext = {
    file: 'bench.json',
    sha256: 'a'.repeat(64),
    rig: 'imported-hyperfine',
    measuredAt: '2025-05-01T10:00:00.000Z',
    runId: 'run-1',
    commandLine: ['rigor', 'import', 'hyperfine', 'bench.json'],
    host: template.host,
    git: template.git,
  };

  it('makes one cell per result with its command and scan parameters, wall_ms in milliseconds, marked as imported', () => {
    const results = parse({ results: [{ ...RESULT, command: 'sleep 0.1', parameters: { t: '0.1' } }, { ...RESULT, command: 'sleep 0.2', parameters: { t: '0.2' } }] });
    const artifact = artifactFromHyperfine(results, ctx);
    assertValidArtifact(artifact, 'imported');
    expect(artifact.cells.map((c) => c.id)).toEqual(['command=sleep 0.1,t=0.1', 'command=sleep 0.2,t=0.2']);
    const wall = artifact.cells[0]!.metrics.wall_ms!;
    expect(wall.samples[1]).toBeCloseTo(1, 12);
    expect(wall.summary!.n).toBe(3);
    expect(wall.clock).toMatch(/hyperfine.* -> /);
    expect(artifact.cells[0]!.facts).toEqual({ hyperfine: { user: 0.0006, system: 0.0003, exit_codes: [0, 0, 0] } });
    expect(artifact.run).toMatchObject({ imported_from: 'bench.json', command_line: ctx.commandLine, started_at: ctx.measuredAt, status: 'complete' });
    expect(artifact.rig.definition).toMatchObject({ name: 'imported-hyperfine', workload: 'command' });
    expect(artifact.host.warnings.at(-1)).toMatch(/does not say where hyperfine ran/);
  });
});
