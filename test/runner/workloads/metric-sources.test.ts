import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  fileValue,
  metricSourceProblems,
  MissingValue,
  outputValue,
  parseMetricSources,
  SourceText,
  sourceUnitProblem,
  valueIn,
} from '../../../runner/workloads/metric-sources.ts';

const dir = mkdtempSync(join(tmpdir(), 'rigor-metric-sources-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const metric = (unit: string, kind?: 'counted') => ({ unit, better: 'lower' as const, clock: 'a -> b', ...(kind ? { kind } : {}) });

describe('params.metrics problems', () => {
  it('accepts each kind of source, and no params.metrics at all', () => {
    expect(metricSourceProblems(undefined)).toEqual([]);
    expect(
      metricSourceProblems({
        a: { from: 'stdout' },
        b: { from: 'stdout', json: 'x.0.y' },
        c: { from: 'file', path: 'out.txt', pattern: 'n=(\\d+)' },
        d: { from: 'output_size' },
        e: { from: 'output_size', path: 'out.gz' },
        f: { from: 'throughput', input_bytes: 1024 },
      }),
    ).toEqual([]);
  });

  it('names each problem with its field, what was expected and what was found', () => {
    expect(
      metricSourceProblems({
        a: 'stdout',
        b: { from: 'stdot' },
        c: { from: 'file', pattern: '(' },
        d: { from: 'stdout', json: 'x', pattern: 'y' },
        e: { from: 'throughput', input_bytes: -1, path: 'x' },
        f: { from: 'output_size', pat: 'x' },
        g: {},
      }),
    ).toEqual([
      'params.metrics.a: expected a mapping with from: stdout, file, output_size, throughput, found "stdout"',
      'params.metrics.b.from: expected where the value is read from (stdout, file, output_size, throughput; did you mean "stdout"?), found "stdot"',
      'params.metrics.c.path: expected a file path (relative to the run\'s working directory), found nothing',
      'params.metrics.c.pattern: expected a regular expression (its first capture group, else its match, is the value), found "(" (Invalid regular expression: /(/m: Unterminated group)',
      'params.metrics.d: expected json or pattern, found both',
      'params.metrics.e.path: expected a field of a "from: throughput" source (from, input_bytes), found unknown field "path"',
      'params.metrics.e.input_bytes: expected the bytes one run processes, a number > 0, found -1',
      'params.metrics.f.pat: expected a field of a "from: output_size" source (from, path; did you mean "path"?), found unknown field "pat"',
      'params.metrics.g.from: expected where the value is read from (stdout, file, output_size, throughput), found nothing',
    ]);
    expect(metricSourceProblems(['a'])).toEqual(['params.metrics: expected a mapping of metric names to where each is read from, found a list of 1']);
  });
});

describe('which units a source fills', () => {
  it('a size in a size unit, a throughput in a rate unit and timed, a value read from output in any', () => {
    expect(sourceUnitProblem('output_size', metric('KiB', 'counted'))).toBeNull();
    expect(sourceUnitProblem('output_size', metric('lines'))).toMatch(/^a size unit for an output_size \(B, byte, bytes, kB/);
    expect(sourceUnitProblem('throughput', metric('MB/s'))).toBeNull();
    expect(sourceUnitProblem('throughput', metric('Mbps'))).toBeNull();
    expect(sourceUnitProblem('throughput', metric('MB'))).toMatch(/^a rate unit for a throughput \(B\/s, /);
    expect(sourceUnitProblem('throughput', metric('MB/s', 'counted'))).toBe("a timed metric for a throughput (it is derived from the run's wall time)");
    expect(sourceUnitProblem('stdout', metric('anything', 'counted'))).toBeNull();
    expect(sourceUnitProblem('file', metric('ms'))).toBeNull();
  });
});

describe('reading a value', () => {
  const sources = parseMetricSources({
    whole: { from: 'stdout' },
    field: { from: 'stdout', json: 'runs.1.ratio' },
    captured: { from: 'stdout', pattern: '^score: (\\S+)$' },
    matched: { from: 'stdout', pattern: '[0-9]+' },
    size: { from: 'output_size' },
    rate: { from: 'throughput', input_bytes: 1_000_000 },
  });
  const read = (name: string, stdout: string, unit = 'x', wallMs = 10) =>
    outputValue(sources[name]!, unit, { wallMs, stdout: new SourceText(Buffer.from(stdout)), stdoutBytes: Buffer.byteLength(stdout) });

  it('takes all of a text as a number, a JSON field by its dotted path, a first capture or else the match', () => {
    expect(read('whole', ' 42.5\n')).toBe(42.5);
    expect(read('field', '{"runs": [{"ratio": 1}, {"ratio": 3.25}]}')).toBe(3.25);
    // Multi-line: ^ and $ match at each line.
    expect(read('captured', 'start\nscore: 1e3\nend\n')).toBe(1000);
    expect(read('matched', 'took 17 steps')).toBe(17);
  });

  it('scales sizes and rates to the metric unit', () => {
    expect(read('size', 'x'.repeat(2048), 'KiB')).toBe(2);
    expect(read('size', 'x'.repeat(2000), 'kB')).toBe(2);
    expect(read('rate', '', 'MB/s', 500)).toBe(2);
    expect(read('rate', '', 'Mbit/s', 500)).toBe(16);
    expect(read('rate', '', 'B/s', 1000)).toBe(1_000_000);
  });

  it('says what it found when the value is not there', () => {
    const message = (name: string, stdout: string) => {
      try {
        read(name, stdout);
      } catch (error) {
        expect(error).toBeInstanceOf(MissingValue);
        return (error as Error).message;
      }
      throw new Error('read a value');
    };
    expect(message('whole', '')).toBe('stdout is not a number; it was empty');
    expect(message('whole', '4 2')).toBe('stdout is not a number; its last lines:\n4 2');
    expect(message('field', '{"runs": [{"ratio": 1}]}')).toBe('field runs of stdout has no field "1" (its fields: 0)');
    expect(message('field', '{"runs": 3}')).toBe('field runs of stdout has no field "1" (it is 3)');
    expect(message('field', '{"runs": [{}, {"ratio": null}]}')).toBe('field runs.1.ratio of stdout is null, not a number');
    expect(message('captured', 'score: high')).toBe('/^score: (\\S+)$/ matched "score: high" in stdout, but "high" is not a number');
    expect(() => valueIn({ json: ['a'] }, '', 'file x')).toThrow('file x is not one JSON document; it was empty');
  });

  it('decodes and parses a run\'s text once however many sources read it', async () => {
    const stdout = new SourceText(Buffer.from('{"a": 1, "b": {"c": 2}}'));
    expect(valueIn({ json: ['a'] }, stdout, 'stdout')).toBe(1);
    expect(valueIn({ json: ['b', 'c'] }, stdout, 'stdout')).toBe(2);
    expect(stdout.json()).toBe(stdout.json());
    writeFileSync(join(dir, 'both.json'), '{"a": 3, "b": 4}');
    const { a, b } = parseMetricSources({ a: { from: 'file', path: 'both.json', json: 'a' }, b: { from: 'file', path: 'both.json', json: 'b' } });
    const texts = new Map<string, Promise<SourceText>>();
    expect([await fileValue(a!, 'x', dir, texts), await fileValue(b!, 'x', dir, texts)]).toEqual([3, 4]);
    expect([...texts.keys()]).toEqual([join(dir, 'both.json')]);
  });

  it('reads a file relative to the working directory, or its size', async () => {
    writeFileSync(join(dir, 'result.json'), '{"lines": 12}');
    const [json, size, missing] = Object.values(
      parseMetricSources({
        json: { from: 'file', path: 'result.json', json: 'lines' },
        size: { from: 'output_size', path: join(dir, 'result.json') },
        missing: { from: 'file', path: 'nothing-here' },
      }),
    );
    expect(await fileValue(json!, 'lines', dir)).toBe(12);
    expect(await fileValue(size!, 'bytes', '/')).toBe(13);
    await expect(fileValue(missing!, 'x', dir)).rejects.toThrow(`cannot read file nothing-here (${join(dir, 'nothing-here')}): ENOENT`);
  });
});
