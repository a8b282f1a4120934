import { describe, expect, it } from 'vitest';
import { cannotFillCommand, commandCannotFill, wallMetric } from '../../../runner/workloads/command-fill.ts';
import { validateCommandParams } from '../../../runner/workloads/command-params.ts';

const metric = (unit: string, kind?: 'counted') => ({ unit, better: 'lower' as const, clock: 'a -> b', ...(kind ? { kind } : {}) });

describe('what the command workload fills', () => {
  const metrics = { out_bytes: metric('bytes'), parse_ms: metric('ms'), wall_ms: metric('ms'), user_ms: metric('ms'), other_ms: metric('ms') };

  it('takes the wall time in the first metric in ms that no source claims and is not a CPU time', () => {
    expect(wallMetric(metrics, [])).toBe('parse_ms');
    expect(wallMetric(metrics, ['parse_ms'])).toBe('wall_ms');
    expect(wallMetric({ user_ms: metric('ms'), size: metric('B') }, [])).toBeUndefined();
  });

  it('fills the wall time, user_ms and sys_ms in ms, and what params.metrics reads; refuses the rest, saying what would do', () => {
    const sources = { parse_ms: 'stdout', out_bytes: 'output_size' } as const;
    expect(commandCannotFill('wall_ms', metrics.wall_ms, metrics, sources)).toBeNull();
    expect(commandCannotFill('parse_ms', metrics.parse_ms, metrics, sources)).toBeNull();
    expect(commandCannotFill('out_bytes', metrics.out_bytes, metrics, sources)).toBeNull();
    expect(commandCannotFill('user_ms', metrics.user_ms, metrics, sources)).toBeNull();
    expect(commandCannotFill('other_ms', metrics.other_ms, metrics, sources)).toBe(
      'a metric the command workload fills: wall time (the first metric in ms, here wall_ms), user_ms, sys_ms, or one that params.metrics says where to read (e.g. params.metrics.other_ms: { from: stdout, json: other_ms })',
    );
    expect(commandCannotFill('out_bytes', metrics.out_bytes, metrics, {})).toMatch(/\(e\.g\. params\.metrics\.out_bytes: \{ from: output_size \}\)$/);
    expect(commandCannotFill('mbps', metric('MB/s'), { mbps: metric('MB/s') }, {})).toMatch(
      /^a metric the command workload fills: wall time \(the first metric in ms\), .*\(e\.g\. params\.metrics\.mbps: \{ from: throughput, input_bytes: 1048576 \}\)$/,
    );
    expect(commandCannotFill('sys_ms', metric('s'), { sys_ms: metric('s') }, {})).toBe("a timed metric in ms (sys_ms is the child's CPU time from its rusage)");
    expect(commandCannotFill('wall_ms', metric('ms', 'counted'), { wall_ms: metric('ms', 'counted') }, {})).toMatch(/^a timed metric \(the command workload times;/);
    expect(commandCannotFill('out_bytes', metric('lines'), { out_bytes: metric('lines') }, { out_bytes: 'output_size' })).toMatch(/^a size unit for an output_size/);
    // A source of no known kind is params.metrics' problem, not the metric's.
    expect(commandCannotFill('x', metric('x'), { x: metric('x') }, { x: undefined })).toBeNull();
  });

  it('fills a metric when the params of any of its cells can (a matrix include entry may add the source)', () => {
    const query = { name: 'ratio', metrics: { wall_ms: metric('ms'), ratio: metric('x') }, params: [{ run: 'a' }, { run: 'b', metrics: { ratio: { from: 'stdout' } } }] };
    expect(cannotFillCommand(metric('x'), query)).toBeNull();
    expect(cannotFillCommand(metric('x'), { ...query, params: [{ run: 'a' }] })).toMatch(/^a metric the command workload fills/);
  });
});

describe('command params: metrics', () => {
  it('lists the problems of params.metrics, and refuses output discard or pipe when a source reads stdout', () => {
    expect(validateCommandParams({ run: 'true', metrics: { n: { from: 'stdout' } } })).toEqual([]);
    expect(validateCommandParams({ run: 'true', output: 'keep', metrics: { n: { from: 'output_size' } } })).toEqual([]);
    expect(validateCommandParams({ run: 'true', output: 'discard', metrics: { n: { from: 'file', path: 'n' } } })).toEqual([]);
    expect(validateCommandParams({ run: 'true', output: 'pipe', metrics: { n: { from: 'stdout' }, s: { from: 'output_size' } } })).toEqual([
      'params.output: expected keep or no output (params.metrics.n, params.metrics.s read stdout), found "pipe"',
    ]);
    expect(validateCommandParams({ run: 'true', metrics: { n: { from: 'stdout', json: '' } } })).toEqual([
      'params.metrics.n.json: expected a JSON field, dotted for nesting (e.g. results.0.ratio), found ""',
    ]);
  });
});
