/**
 * Checks a JSON Schema cannot express: names that must agree across the file
 * (gate metrics, `where` keys, placeholders), the file name, the workload, and
 * matrix sanity. They read the raw document defensively, so they run (and are
 * reported) even when the schema check found problems elsewhere.
 */
import { basename } from 'node:path';
import { describeFound } from '../../base/errors.ts';
import type { RigProblem } from './errors.ts';
import { cellMatches, expandMatrixTraced, RESERVED_MATRIX_KEYS } from './matrix.ts';
import { formatField, locate, type FieldPath, type RigText } from '../../base/positions.ts';
import { Matrix, MetricDef, Sampling, type Scalar } from './schema.ts';
import { cellWorkload, type ParamsContract } from './param-problems.ts';
import { paramsPositionProblems } from './params-positions.ts';
import type { FillQuery } from '../contract/workload.ts';
import { placeholders } from './substitute.ts';
import { RIG_SUFFIX } from './discover.ts';
import { choices } from './suggest.ts';
import { BATCH_ITERATION_BYTES, MAX_ARTIFACT_BYTES, SAMPLE_BYTES } from '../artifact/size.ts';

type Mapping = Record<string, unknown>;

/** Placeholders rigor fills in every cell's params without a param of that name: the run's scratch directory. */
const BUILTIN_PLACEHOLDERS = ['scratch'] as const;

function isMapping(value: unknown): value is Mapping {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function mappings(value: unknown): [number, Mapping][] {
  return Array.isArray(value) ? value.flatMap((item, i) => (isMapping(item) ? [[i, item] as [number, Mapping]] : [])) : [];
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const show = (value: unknown) => (typeof value === 'string' ? JSON.stringify(value) : describeFound(value));

/** Every string inside a value, with its path. */
function* strings(value: unknown, path: FieldPath): Generator<[FieldPath, string]> {
  if (typeof value === 'string') yield [path, value];
  else if (Array.isArray(value)) for (const [i, item] of value.entries()) yield* strings(item, [...path, i]);
  else if (isMapping(value)) for (const [key, item] of Object.entries(value)) yield* strings(item, [...path, key]);
}

export interface SemanticContext {
  file: string;
  text: RigText;
  /** Which workload names exist; the workload check is skipped without it. */
  workloads?: (name: string) => boolean;
  /** What a metric must be for a workload to fill it, null when it can; the metrics check is skipped without it. */
  cannotFill?: (workload: string, metric: MetricDef, query: FillQuery) => string | null;
  /** Which workloads time batches (micro-benchmarks: a batch is a sample with its call count beside it), for the artifact size check. */
  batched?: (name: string) => boolean;
  /** The params a workload declares (its schema and cross-field checks, runner/contract/workload.ts); each cell's params are checked against its workload's, skipped without it. */
  params?: (workload: string) => ParamsContract | undefined;
}

export function semanticProblems(data: unknown, ctx: SemanticContext): RigProblem[] {
  const problems: RigProblem[] = [];
  const add = (path: FieldPath, expected: string, found: string, part: 'value' | 'key' = 'value') => {
    const { line, column } = locate(ctx.text, path, part);
    problems.push({ file: ctx.file, line, column, field: formatField(path), expected, found });
  };
  if (!isMapping(data)) return problems;

  // The file name is the rig's name (and its mise task).
  const fileName = basename(ctx.file);
  if (!fileName.endsWith(RIG_SUFFIX)) {
    add([], `a file named <name>${RIG_SUFFIX}`, JSON.stringify(fileName));
  } else if (typeof data.name === 'string' && data.name !== basename(fileName, RIG_SUFFIX)) {
    add(['name'], `"${basename(fileName, RIG_SUFFIX)}" (the file name without ${RIG_SUFFIX})`, JSON.stringify(data.name));
  }

  if (typeof data.workload === 'string' && data.workload !== '' && ctx.workloads && !ctx.workloads(data.workload)) {
    add(['workload'], 'a registered workload or "command" (rigor list shows them)', JSON.stringify(data.workload));
  }

  const metrics = isMapping(data.metrics) ? Object.keys(data.metrics) : undefined;
  if (metrics?.length === 0) add(['metrics'], 'at least one metric', 'none');

  // Matrix: axes, their values, exclude and include entries.
  const beforeMatrix = problems.length;
  const matrix = isMapping(data.matrix) ? data.matrix : {};
  const axes = Object.entries(matrix).filter(([key]) => !(RESERVED_MATRIX_KEYS as readonly string[]).includes(key));
  const axisValues = new Map(axes.map(([key, values]) => [key, Array.isArray(values) ? values : []]));
  for (const [axis, values] of axisValues) {
    values.forEach((value, i) => {
      const first = values.findIndex((other) => same(other, value));
      if (first < i) add(['matrix', axis, i], `values that differ (matrix.${axis}[${first}] is the same)`, `${show(value)} again`);
    });
  }
  for (const [i, exclude] of mappings(matrix.exclude)) {
    for (const [key, value] of Object.entries(exclude)) {
      const values = axisValues.get(key);
      if (!values) add(['matrix', 'exclude', i, key], `a matrix axis ${choices(key, axisValues.keys())}`, `"${key}"`, 'key');
      else if (!values.some((v) => same(v, value))) add(['matrix', 'exclude', i, key], `one of ${values.map(String).join(', ')} (the values of matrix.${key})`, show(value));
    }
  }
  const includes = mappings(matrix.include);
  for (const [i, include] of includes) {
    if (Object.keys(include).length === 0) add(['matrix', 'include', i], 'at least one key', 'an empty mapping');
    for (const [key, value] of Object.entries(include)) {
      if (axisValues.has(key) && value !== null && typeof value === 'object') {
        add(['matrix', 'include', i, key], `a string, number, boolean or null (matched against the values of matrix.${key})`, show(value));
      }
    }
  }
  const selectable = [...new Set([...axisValues.keys(), ...includes.flatMap(([, entry]) => Object.keys(entry))])];

  // Cells, when the matrix itself is well-formed.
  const parsedMatrix = Matrix.safeParse(data.matrix ?? {});
  const cells = parsedMatrix.success && problems.length === beforeMatrix ? expandMatrixTraced(parsedMatrix.data) : undefined;
  if (cells?.length === 0) add(['matrix'], 'at least one cell', 'none (exclude removes every combination)');
  const seen = new Set<string>();
  for (const cell of cells ?? []) {
    if (seen.has(cell.id)) add(['matrix', 'include'], 'include entries that make distinct cells (add a scalar key that tells them apart)', `two cells "${cell.id}"`);
    seen.add(cell.id);
  }

  // A cell may name its own workload.
  for (const [i, include] of includes) {
    if (typeof include.workload === 'string' && ctx.workloads && !ctx.workloads(include.workload)) {
      add(['matrix', 'include', i, 'workload'], 'a registered workload or "command" (rigor list shows them)', JSON.stringify(include.workload));
    }
  }

  // Matrix keys that set a cell's sampling must be what the sampling field takes.
  const cellSampling = { concurrency: 1, iterations: 1, warmup: 0 } as const;
  for (const [key, least] of Object.entries(cellSampling)) {
    const written: [FieldPath, unknown][] = [
      ...(axisValues.get(key) ?? []).map((value, i): [FieldPath, unknown] => [['matrix', key, i], value]),
      ...includes.filter(([, entry]) => key in entry).map(([i, entry]): [FieldPath, unknown] => [['matrix', 'include', i, key], entry[key]]),
    ];
    for (const [path, value] of written) {
      if (!(Number.isInteger(value) && (value as number) >= least)) add(path, `an integer >= ${least} (the cell's sampling.${key})`, show(value));
    }
  }

  const checkWhere = (path: FieldPath, where: unknown) => {
    if (!isMapping(where)) return;
    let known = true;
    for (const key of Object.keys(where)) {
      if (!selectable.includes(key)) {
        known = false;
        add([...path, key], `a matrix axis or include key ${choices(key, selectable, 'the rig has no matrix')}`, `"${key}"`, 'key');
      }
    }
    const scalars = Object.values(where).every((v) => ['string', 'number', 'boolean'].includes(typeof v));
    if (known && scalars && cells && !cells.some((cell) => cellMatches(cell.params, where as Record<string, Scalar>))) {
      add(path, 'a selection that matches at least one cell', `no cell with ${Object.entries(where).map(([k, v]) => `${k}=${String(v)}`).join(',')}`);
    }
  };

  // Every metric must be one that a workload of the rig can fill (a cell's include may name its own workload).
  const usedWorkloads = [data.workload, ...includes.map(([, entry]) => entry.workload)].filter(
    (name, i, all): name is string => typeof name === 'string' && name !== '' && all.indexOf(name) === i && (ctx.workloads?.(name) ?? true),
  );
  const cannotFill = ctx.cannotFill;
  if (cannotFill && isMapping(data.metrics) && usedWorkloads.length > 0) {
    const declared = Object.fromEntries(
      Object.entries(data.metrics).flatMap(([name, raw]) => {
        const metric = MetricDef.safeParse(raw);
        return metric.success ? [[name, metric.data] as const] : [];
      }),
    );
    const rigParams = isMapping(data.params) ? data.params : {};
    // The params each workload's cells see as written: the rig's, and each include entry's over them.
    const paramsOf = (workload: string) => [
      ...(data.workload === workload ? [rigParams] : []),
      ...includes.filter(([, entry]) => (entry.workload ?? data.workload) === workload).map(([, entry]) => ({ ...rigParams, ...entry })),
    ];
    for (const [name, metric] of Object.entries(declared)) {
      const reasons = usedWorkloads.map((workload) => ({ workload, reason: cannotFill(workload, metric, { name, metrics: declared, params: paramsOf(workload) }) }));
      if (reasons.some(({ reason }) => reason === null)) continue;
      const expected =
        reasons.length === 1 ? reasons[0]!.reason! : `a metric one of the workloads can fill (${reasons.map(({ workload, reason }) => `${workload}: ${reason}`).join('; ')})`;
      add(['metrics', name], expected, `a ${metric.kind ?? 'timed'} metric in ${metric.unit}`, 'key');
    }
  }

  for (const [i, gate] of mappings(data.gates)) {
    if (typeof gate.metric === 'string' && metrics && metrics.length > 0 && !metrics.includes(gate.metric)) {
      add(['gates', i, 'metric'], `a metric declared in metrics ${choices(gate.metric, metrics)}`, JSON.stringify(gate.metric));
    }
    if (!('max' in gate) && !('min' in gate) && !('max_ratio' in gate)) {
      add(['gates', i], 'a bound: max or min (absolute gate), or max_ratio (relative gate)', 'none');
    }
    if (typeof gate.min === 'number' && typeof gate.max === 'number' && gate.min > gate.max) {
      add(['gates', i, 'min'], `min <= max (${gate.max})`, String(gate.min));
    }
    checkWhere(['gates', i, 'where'], gate.where);
  }

  for (const [i, ratio] of mappings(data.ratios)) {
    for (const side of ['of', 'to'] as const) {
      const entry = ratio[side];
      if (!isMapping(entry)) continue;
      if (typeof entry.metric === 'string' && metrics && metrics.length > 0 && !metrics.includes(entry.metric)) {
        add(['ratios', i, side, 'metric'], `a metric declared in metrics ${choices(entry.metric, metrics)}`, JSON.stringify(entry.metric));
      }
      checkWhere(['ratios', i, side, 'where'], entry.where);
      const matching = isMapping(entry.where) && cells ? cells.filter((cell) => cellMatches(cell.params, entry.where as Record<string, Scalar>)) : [];
      if (matching.length > 1) add(['ratios', i, side, 'where'], 'a selection of exactly one cell', `${matching.length} cells (${matching.map((c) => c.id).join('; ')})`);
    }
  }

  // A published figure stands beside the value of one metric in one cell.
  for (const [i, figure] of mappings(data.published)) {
    if (typeof figure.metric === 'string' && metrics && metrics.length > 0 && !metrics.includes(figure.metric)) {
      add(['published', i, 'metric'], `a metric declared in metrics ${choices(figure.metric, metrics)}`, JSON.stringify(figure.metric));
    }
    checkWhere(['published', i, 'where'], figure.where);
    const matching = isMapping(figure.where) && cells ? cells.filter((cell) => cellMatches(cell.params, figure.where as Record<string, Scalar>)) : [];
    if (matching.length > 1) add(['published', i, 'where'], 'a selection of exactly one cell', `${matching.length} cells (${matching.map((c) => c.id).join('; ')})`);
  }

  for (const [i, req] of mappings(data.requires)) {
    if (!('binary' in req) && !('root' in req) && !('kvm' in req)) add(['requires', i], 'at least one of binary, root, kvm', 'none');
    checkWhere(['requires', i, 'where'], req.where);
  }

  const sampling = Sampling.safeParse(data.sampling ?? {});
  if (sampling.success && sampling.data.max_iterations !== undefined && sampling.data.max_iterations < sampling.data.iterations) {
    const given = isMapping(data.sampling) && 'iterations' in data.sampling ? '' : ', the default';
    add(['sampling', 'max_iterations'], `an integer >= iterations (${sampling.data.iterations}${given})`, String(sampling.data.max_iterations));
  }
  const batchedCells = (cells ?? []).filter((cell) => {
    const name = cellWorkload({ workload: data.workload }, cell.params);
    return name !== undefined && ctx.batched?.(name) === true;
  });
  // A micro-benchmark takes exactly `iterations` batches and fills min_seconds by making them longer, never by taking more.
  if (sampling.success && batchedCells.length > 0 && (sampling.data.max_iterations ?? 0) > sampling.data.iterations) {
    add(
      ['sampling', 'max_iterations'],
      `at most iterations (${sampling.data.iterations}): a micro-benchmark takes iterations batches and fills min_seconds by making them longer`,
      String(sampling.data.max_iterations),
    );
  }
  // A micro-benchmark's metric is its slope: a batch averages its calls, so no per-call mean or percentile was measured.
  for (const [name, metric] of isMapping(data.metrics) ? Object.entries(data.metrics) : []) {
    if (!isMapping(metric) || !Array.isArray(metric.show)) continue;
    if (batchedCells.length > 0) {
      const workload = cellWorkload({ workload: data.workload }, batchedCells[0]!.params);
      const expected = `no show (workload ${workload} times batches: its metrics are shown by their slope, and as a batch averages its calls no per-call mean or percentile is measured)`;
      add(['metrics', name, 'show'], expected, `show: [${metric.show.map(String).join(', ')}]`, 'key');
    }
  }
  // Every raw sample is kept: the most a run can keep must fit an artifact (a micro benchmark times batches, not calls).
  if (sampling.success && cells && metrics) {
    const perCell = Math.max(sampling.data.iterations, sampling.data.max_iterations ?? 0);
    const perSample = cells.length * metrics.length * SAMPLE_BYTES + batchedCells.length * metrics.length * BATCH_ITERATION_BYTES;
    const bytes = perCell * perSample;
    if (bytes > MAX_ARTIFACT_BYTES) {
      const path = isMapping(data.sampling) && 'max_iterations' in data.sampling ? ['sampling', 'max_iterations'] : ['sampling', 'iterations'];
      add(
        path,
        `at most ${Math.floor(MAX_ARTIFACT_BYTES / perSample)} samples per cell, so that ${cells.length} cells × ${metrics.length} metric(s) of raw samples stay under ${MAX_ARTIFACT_BYTES / 1e6} MB`,
        `${perCell} (about ${(bytes / 1e6).toFixed(0)} MB of samples)`,
      );
    }
  }

  // Each cell's params must be what its workload declares.
  if (ctx.params && cells && cells.length > 0 && (data.params === undefined || isMapping(data.params))) {
    const list = (value: unknown) => (Array.isArray(value) ? value : []);
    const view = { workload: data.workload, params: isMapping(data.params) ? data.params : {}, matrix: parsedMatrix.data!, requires: list(data.requires), gates: list(data.gates), ratios: list(data.ratios) };
    problems.push(...paramsPositionProblems(view, cells, { file: ctx.file, text: ctx.text, contract: ctx.params }, isMapping(data.params)));
  }

  // Placeholders must name a param a cell will have, or a name rigor gives every cell ({scratch}).
  const params = isMapping(data.params) ? data.params : {};
  const names = new Set([...Object.keys(params), ...selectable]);
  const cellNames = new Set([...names, ...BUILTIN_PLACEHOLDERS]);
  const checkPlaceholders = (placed: Iterable<[FieldPath, string]>, allowed: ReadonlySet<string>, expected: (name: string) => string) => {
    for (const [path, text] of placed) for (const name of placeholders(text)) if (!allowed.has(name)) add(path, expected(name), JSON.stringify(text));
  };
  const naming = (allowed: ReadonlySet<string>) => (name: string) => `{${name}} to name a param or matrix key ${choices(name, allowed)} (write {{ for a literal brace)`;
  checkPlaceholders([...strings(params, ['params']), ...includes.flatMap(([i, entry]) => [...strings(entry, ['matrix', 'include', i])])], cellNames, naming(cellNames));
  // A requirement is checked before the run exists: no {scratch} there.
  checkPlaceholders(mappings(data.requires).flatMap(([i, req]) => [...strings(req.binary, ['requires', i, 'binary'])]), names, naming(names));
  // The run's own setup and cleanup run once, before and after every cell: only {scratch} reaches them.
  for (const step of ['setup', 'cleanup'] as const) {
    checkPlaceholders(
      strings(data[step], [step]),
      new Set(BUILTIN_PLACEHOLDERS),
      () => `{scratch} as the only placeholder (the run's ${step} runs once for the whole run, so no cell's params reach it; write {{ for a literal brace)`,
    );
  }
  // A param or matrix key of that name would hide the one rigor gives.
  for (const name of BUILTIN_PLACEHOLDERS) {
    const builtin = `a name other than ${name} ({${name}} is the run's scratch directory)`;
    if (name in params) add(['params', name], builtin, `"${name}"`, 'key');
    if (axisValues.has(name)) add(['matrix', name], builtin, `"${name}"`, 'key');
    for (const [i, entry] of includes) if (name in entry) add(['matrix', 'include', i, name], builtin, `"${name}"`, 'key');
  }
  return problems;
}
