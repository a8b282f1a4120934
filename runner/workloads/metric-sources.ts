/**
 * Metrics a command's own output fills, as asv's track_* and criterion's
 * throughput do: a number read from a run's stdout or from a file it wrote
 * (the whole text, a field of it as JSON, or a regular expression's capture),
 * the bytes of stdout or of a file, or a throughput: a declared input size
 * over the run's wall time. A rig names them in `params.metrics`; each is read
 * after its run, outside the clock.
 */
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { describeFound } from '../../base/errors.ts';
import { lastLines } from '../../base/tail.ts';
import type { MetricDef } from '../rig/schema.ts';
import { choices } from '../rig/suggest.ts';

/** How a number is found in a text: all of it, a JSON field (path segments), or a pattern's first capture (else its match). */
export type ValueRead = { whole: true } | { json: string[] } | { pattern: RegExp };

export type MetricSource =
  | { from: 'stdout'; read: ValueRead }
  | { from: 'file'; path: string; read: ValueRead }
  /** Bytes of stdout, or of the file at `path`. */
  | { from: 'output_size'; path?: string }
  /** inputBytes over the run's wall time. */
  | { from: 'throughput'; inputBytes: number };

export type SourceKind = MetricSource['from'];

const FIELDS: Record<SourceKind, { required: string[]; optional: string[] }> = {
  stdout: { required: [], optional: ['json', 'pattern'] },
  file: { required: ['path'], optional: ['json', 'pattern'] },
  output_size: { required: [], optional: ['path'] },
  throughput: { required: ['input_bytes'], optional: [] },
};
export const SOURCE_KINDS = Object.keys(FIELDS) as SourceKind[];

/** Bytes in one of each size unit. */
const SIZE_UNITS: Record<string, number> = { B: 1, byte: 1, bytes: 1, kB: 1e3, KB: 1e3, KiB: 1024, MB: 1e6, MiB: 1024 ** 2, GB: 1e9, GiB: 1024 ** 3 };
/** Bytes per second in one of each rate unit: a size unit per second, or bits per second. */
const RATE_UNITS: Record<string, number> = {
  ...Object.fromEntries(Object.entries(SIZE_UNITS).map(([unit, bytes]) => [`${unit}/s`, bytes])),
  'bit/s': 1 / 8,
  'kbit/s': 1e3 / 8,
  'Mbit/s': 1e6 / 8,
  'Gbit/s': 1e9 / 8,
  kbps: 1e3 / 8,
  Mbps: 1e6 / 8,
  Gbps: 1e9 / 8,
};

type Mapping = Record<string, unknown>;
const isMapping = (value: unknown): value is Mapping => value !== null && typeof value === 'object' && !Array.isArray(value);

/** A field path "results.0.ratio" as its segments. */
function fieldPath(text: string): string[] {
  return text.split('.');
}

function patternError(text: string): string | null {
  try {
    new RegExp(text, 'm');
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

/** Every problem with `params.metrics` (absent is fine), in the "params.metrics.x.from: expected ..., found ..." form. */
export function metricSourceProblems(raw: unknown): string[] {
  if (raw === undefined) return [];
  if (!isMapping(raw)) return [`params.metrics: expected a mapping of metric names to where each is read from, found ${describeFound(raw)}`];
  const problems: string[] = [];
  for (const [name, spec] of Object.entries(raw)) {
    const at = `params.metrics.${name}`;
    if (!isMapping(spec)) {
      problems.push(`${at}: expected a mapping with from: ${SOURCE_KINDS.join(', ')}, found ${describeFound(spec)}`);
      continue;
    }
    const from = spec.from;
    if (typeof from !== 'string' || !(SOURCE_KINDS as string[]).includes(from)) {
      const hint = typeof from === 'string' ? ` ${choices(from, SOURCE_KINDS)}` : ` (${SOURCE_KINDS.join(', ')})`;
      problems.push(`${at}.from: expected where the value is read from${hint}, found ${describeFound(from)}`);
      continue;
    }
    const { required, optional } = FIELDS[from as SourceKind];
    const allowed = ['from', ...required, ...optional];
    for (const key of Object.keys(spec)) {
      if (!allowed.includes(key)) problems.push(`${at}.${key}: expected a field of a "from: ${from}" source ${choices(key, allowed)}, found unknown field "${key}"`);
    }
    for (const key of required) if (spec[key] === undefined) problems.push(`${at}.${key}: expected ${fieldMeaning(key)}, found nothing`);
    for (const key of ['path', 'json'] as const) {
      if (allowed.includes(key) && spec[key] !== undefined && (typeof spec[key] !== 'string' || spec[key] === '')) {
        problems.push(`${at}.${key}: expected ${fieldMeaning(key)}, found ${describeFound(spec[key])}`);
      }
    }
    if (allowed.includes('pattern') && spec.pattern !== undefined) {
      const error = typeof spec.pattern === 'string' && spec.pattern !== '' ? patternError(spec.pattern) : 'not a non-empty string';
      if (error) problems.push(`${at}.pattern: expected ${fieldMeaning('pattern')}, found ${describeFound(spec.pattern)} (${error})`);
    }
    if (spec.json !== undefined && spec.pattern !== undefined) problems.push(`${at}: expected json or pattern, found both`);
    if (allowed.includes('input_bytes') && spec.input_bytes !== undefined) {
      const bytes = spec.input_bytes;
      if (typeof bytes !== 'number' || !Number.isFinite(bytes) || bytes <= 0) problems.push(`${at}.input_bytes: expected ${fieldMeaning('input_bytes')}, found ${describeFound(bytes)}`);
    }
  }
  return problems;
}

function fieldMeaning(key: string): string {
  switch (key) {
    case 'path':
      return 'a file path (relative to the run\'s working directory)';
    case 'json':
      return 'a JSON field, dotted for nesting (e.g. results.0.ratio)';
    case 'pattern':
      return 'a regular expression (its first capture group, else its match, is the value)';
    case 'input_bytes':
      return 'the bytes one run processes, a number > 0';
    default:
      return key;
  }
}

/** The metric names params.metrics declares sources for; [] when it is not a mapping. */
export function sourcedMetricNames(raw: unknown): string[] {
  return isMapping(raw) ? Object.keys(raw) : [];
}

/** The kind a raw source names (`from`), when it names one this file knows. */
export function sourceKindOf(raw: unknown): SourceKind | undefined {
  return isMapping(raw) && typeof raw.from === 'string' && (SOURCE_KINDS as string[]).includes(raw.from) ? (raw.from as SourceKind) : undefined;
}

function parseRead(spec: Mapping): ValueRead {
  if (typeof spec.json === 'string') return { json: fieldPath(spec.json) };
  if (typeof spec.pattern === 'string') return { pattern: new RegExp(spec.pattern, 'm') };
  return { whole: true };
}

/** Typed sources from params.metrics that metricSourceProblems found no problem in. */
export function parseMetricSources(raw: unknown): Record<string, MetricSource> {
  if (!isMapping(raw)) return {};
  return Object.fromEntries(
    Object.entries(raw).map(([name, value]): [string, MetricSource] => {
      const spec = value as Mapping;
      switch (spec.from as SourceKind) {
        case 'stdout':
          return [name, { from: 'stdout', read: parseRead(spec) }];
        case 'file':
          return [name, { from: 'file', path: spec.path as string, read: parseRead(spec) }];
        case 'output_size':
          return [name, typeof spec.path === 'string' ? { from: 'output_size', path: spec.path } : { from: 'output_size' }];
        case 'throughput':
          return [name, { from: 'throughput', inputBytes: spec.input_bytes as number }];
      }
    }),
  );
}

/**
 * What `metric` must be for a source of kind `from` to fill it, or null when
 * it can: a size in a size unit, a throughput in a rate unit and timed (it is
 * derived from a time); a value read from output in any unit.
 */
export function sourceUnitProblem(from: SourceKind, metric: MetricDef): string | null {
  if (from === 'output_size' && !(metric.unit in SIZE_UNITS)) return `a size unit for an output_size (${Object.keys(SIZE_UNITS).join(', ')})`;
  if (from === 'throughput') {
    if (!(metric.unit in RATE_UNITS)) return `a rate unit for a throughput (${Object.keys(RATE_UNITS).join(', ')})`;
    if (metric.kind === 'counted') return 'a timed metric for a throughput (it is derived from the run\'s wall time)';
  }
  return null;
}

/** Whether a source reads stdout's text (not only its size). */
export function readsStdoutText(source: MetricSource): boolean {
  return source.from === 'stdout';
}

/** Whether a source needs the size of stdout. */
export function readsStdoutSize(source: MetricSource): boolean {
  return source.from === 'output_size' && source.path === undefined;
}

/** Whether a source reads a file the run wrote. */
export function readsFile(source: MetricSource): boolean {
  return source.from === 'file' || (source.from === 'output_size' && source.path !== undefined);
}

/**
 * A text sources read values from (a run's stdout, a file it wrote), decoded
 * once and parsed as JSON at most once however many sources read it: two
 * `json:` fields of one stdout parse it once per run, not twice.
 */
export class SourceText {
  #bytes: Buffer | undefined;
  #text: string | undefined;
  #json: { node: unknown } | null | undefined;

  constructor(content: Buffer | string) {
    if (typeof content === 'string') this.#text = content;
    else this.#bytes = content;
  }

  get text(): string {
    return (this.#text ??= this.#bytes!.toString('utf8'));
  }

  /** The text as one JSON document; null when it is not one. */
  json(): { node: unknown } | null {
    if (this.#json === undefined) {
      try {
        this.#json = { node: JSON.parse(this.text) };
      } catch {
        this.#json = null;
      }
    }
    return this.#json;
  }
}

/** A run's output as a source sees it. */
export interface RunOutput {
  wallMs: number;
  /** All of stdout, when a source reads it. */
  stdout?: SourceText;
  /** Bytes of stdout, when a source needs them. */
  stdoutBytes?: number;
}

/** The value is not where the source says (no such field, no match, no file): `message` says what was found instead. */
export class MissingValue extends Error {
  override name = 'MissingValue';
}

function quote(text: string): string {
  const shown = lastLines(text, 5);
  return shown.trim() === '' ? 'it was empty' : `its last lines:\n${shown}`;
}

function asNumber(text: string): number | null {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : null;
}

/** The number `read` finds in `content` (stdout or a file, named by `what`); throws MissingValue saying what it found instead. */
export function valueIn(read: ValueRead, content: string | SourceText, what: string): number {
  const source = typeof content === 'string' ? new SourceText(content) : content;
  const text = source.text;
  if ('whole' in read) {
    const value = asNumber(text);
    if (value === null) throw new MissingValue(`${what} is not a number; ${quote(text)}`);
    return value;
  }
  if ('pattern' in read) {
    const match = read.pattern.exec(text);
    if (!match) throw new MissingValue(`${what} has no match for /${read.pattern.source}/; ${quote(text)}`);
    const captured = match.length > 1 ? match[1] : match[0];
    const value = captured === undefined ? null : asNumber(captured);
    if (value === null) throw new MissingValue(`/${read.pattern.source}/ matched ${JSON.stringify(match[0])} in ${what}, but ${JSON.stringify(captured ?? '')} is not a number`);
    return value;
  }
  const parsed = source.json();
  if (!parsed) throw new MissingValue(`${what} is not one JSON document; ${quote(text)}`);
  let node = parsed.node;
  const walked: string[] = [];
  for (const key of read.json) {
    const container = walked.length === 0 ? what : `field ${walked.join('.')} of ${what}`;
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, key)) {
      const fields = node !== null && typeof node === 'object' ? Object.keys(node) : [];
      const has = fields.length > 0 ? `its fields: ${fields.slice(0, 10).join(', ')}${fields.length > 10 ? ', …' : ''}` : `it is ${describeFound(node)}`;
      throw new MissingValue(`${container} has no field ${JSON.stringify(key)} (${has})`);
    }
    node = (node as Record<string, unknown>)[key];
    walked.push(key);
  }
  if (typeof node !== 'number' || !Number.isFinite(node)) throw new MissingValue(`field ${walked.join('.')} of ${what} is ${describeFound(node)}, not a number`);
  return node;
}

/**
 * The value a source reads from a run's stdout, size or wall time, in the
 * metric's `unit` (sizes and rates are scaled to it); null for a source that
 * reads a file (fileValue). Throws MissingValue.
 */
export function outputValue(source: MetricSource, unit: string, output: RunOutput): number | null {
  switch (source.from) {
    case 'stdout':
      if (!output.stdout) throw new Error('metric source: stdout was not kept for a source that reads it');
      return valueIn(source.read, output.stdout, 'stdout');
    case 'output_size':
      if (source.path !== undefined) return null;
      if (output.stdoutBytes === undefined) throw new Error('metric source: stdout was not counted for a source that needs its size');
      return output.stdoutBytes / SIZE_UNITS[unit]!;
    case 'throughput':
      if (!(output.wallMs > 0)) throw new MissingValue(`the run's wall time was ${output.wallMs} ms: no throughput`);
      return source.inputBytes / (output.wallMs / 1000) / RATE_UNITS[unit]!;
    case 'file':
      return null;
  }
}

/**
 * The value a source reads from a file the run wrote (relative paths from `cwd`), in the metric's unit. Throws MissingValue.
 * `texts` holds the files one run's sources have read, by path, so sources reading one file read and parse it once.
 */
export async function fileValue(source: MetricSource, unit: string, cwd: string, texts = new Map<string, Promise<SourceText>>()): Promise<number> {
  if (source.from !== 'file' && !(source.from === 'output_size' && source.path !== undefined)) throw new Error(`metric source: ${source.from} reads no file`);
  const path = resolve(cwd, source.path!);
  const what = `file ${source.path}`;
  try {
    if (source.from === 'output_size') return (await stat(path)).size / SIZE_UNITS[unit]!;
    let text = texts.get(path);
    if (!text) texts.set(path, (text = readFile(path).then((bytes) => new SourceText(bytes))));
    return valueIn(source.read, await text, what);
  } catch (error) {
    if (error instanceof MissingValue) throw error;
    throw new MissingValue(`cannot read ${what}${path !== source.path ? ` (${path})` : ''}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** Where a source reads its value, for facts and messages: "field ratio of stdout as JSON". */
export function describeSource(source: MetricSource): string {
  const read = (from: string, how: ValueRead) =>
    'json' in how ? `field ${how.json.join('.')} of ${from} as JSON` : 'pattern' in how ? `the first match of /${how.pattern.source}/ in ${from}` : `${from} as a number`;
  switch (source.from) {
    case 'stdout':
      return read('stdout', source.read);
    case 'file':
      return read(`file ${source.path}`, source.read);
    case 'output_size':
      return source.path === undefined ? 'bytes of stdout' : `bytes of file ${source.path}`;
    case 'throughput':
      return `${source.inputBytes} input bytes over the run's wall time`;
  }
}
