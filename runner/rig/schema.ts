/**
 * The rig file contract, written once. `schemas/rig.schema.json` is generated
 * from this (npm run schemas) and a test proves the two never drift.
 */
import { z } from 'zod';

/** A matrix value or a `where` value: a scalar a cell can be selected by. */
export const Scalar = z.union([z.string(), z.number(), z.boolean()]);
export type Scalar = z.infer<typeof Scalar>;

/** Rig and metric names: lower-case words joined by - or _ (they become file and task names). */
export const Name = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'a lower-case name of letters, digits, - and _');

/** Selects cells by parameter value: every key must equal the cell's value. */
export const Where = z.record(z.string(), Scalar).describe('cell parameters a cell must match, e.g. { backend: bwrap }');

const CLOCK_PATTERN = /^\S.*\s->\s.*\S$/;

export const Clock = z
  .string()
  .regex(CLOCK_PATTERN, 'a clock "<start event> -> <stop event>"')
  .describe('the event that starts the measurement and the event that stops it, e.g. "spawn() called -> child exited"');

/** timed: a duration between two events; counted: a count that does not depend on time (instructions under callgrind). */
export const MetricKind = z.enum(['timed', 'counted']);
export type MetricKind = z.infer<typeof MetricKind>;

/** What the clock must be, by kind: a timed metric's is "<start> -> <stop>", a counted metric's says what is counted. */
function checkClock(metric: { kind?: MetricKind; clock: string }, ctx: z.RefinementCtx): void {
  if (metric.kind === 'counted') return;
  const timed = Clock.safeParse(metric.clock);
  if (!timed.success) ctx.addIssue({ code: 'custom', path: ['clock'], message: timed.error.issues[0]?.message ?? 'a clock' });
}

/** checkClock in JSON Schema (a refine is invisible to z.toJSONSchema): unless kind is counted, the clock has Clock's pattern. */
export const CLOCK_BY_KIND = {
  if: { properties: { kind: { const: 'counted' } }, required: ['kind'] },
  else: { properties: { clock: { type: 'string', pattern: CLOCK_PATTERN.source, description: Clock.description } } },
};

export const Stat = z.enum(['min', 'max', 'mean', 'median', 'p50', 'p90', 'p95', 'p99']);
export type Stat = z.infer<typeof Stat>;

/** A list whose every item differs: a repeat is named at its index, beside the first (as schema-problems.ts words uniqueItems). */
function eachOnce(list: readonly string[], ctx: z.RefinementCtx): void {
  list.forEach((item, i) => {
    const first = list.indexOf(item);
    if (first < i) ctx.addIssue({ code: 'custom', path: [i], message: `values that differ ([${first}] is the same)` });
  });
}

export const MetricDef = z
  .object({
    unit: z.string().min(1).describe('unit of every sample, e.g. ms, MiB, req/s, instructions'),
    better: z.enum(['lower', 'higher']).describe('which direction is an improvement'),
    kind: MetricKind.optional().describe('timed (the default) or counted: a count that does not depend on time, e.g. instructions under callgrind'),
    clock: z
      .string()
      .min(1)
      .describe('timed: the event that starts the measurement and the event that stops it, "<start> -> <stop>"; counted: what is counted, e.g. "instructions (Ir) under callgrind"'),
    description: z.string().optional(),
    signed: z
      .boolean()
      .optional()
      .describe('true when a sample may be negative: a difference of two durations (an API round trip minus the direct one); validation refuses a negative duration, count or rate otherwise'),
    noise: z
      .number()
      .min(0)
      .lt(1)
      .optional()
      .describe('smallest relative change that counts: compare and gate call a change of the statistic by this fraction or less `same` (default 0.02 for timed metrics, 0 for counted ones)'),
    show: z
      .array(Stat)
      .min(1)
      .superRefine(eachOnce)
      // The refine is invisible to z.toJSONSchema: say the same in JSON Schema.
      .meta({ uniqueItems: true })
      .optional()
      .describe('the statistics the terminal table and the site show for this metric, a column each, e.g. [mean, p95] (default: the median, with its CI); not for a batched metric, shown by its slope'),
  })
  .strict()
  .superRefine(checkClock)
  .meta(CLOCK_BY_KIND);
export type MetricDef = z.infer<typeof MetricDef>;

/** A statistic of a metric held against a fixed bound. */
export const AbsoluteGate = z
  .object({
    metric: z.string(),
    stat: Stat.default('median'),
    max: z.number().optional().describe('fail when the statistic is above this'),
    min: z.number().optional().describe('fail when the statistic is below this'),
    where: Where.optional(),
  })
  .strict()
  .refine((g) => g.max !== undefined || g.min !== undefined, {
    message: 'an absolute gate needs max or min',
  })
  // The refine above is invisible to z.toJSONSchema: say the same in JSON Schema.
  .meta({ anyOf: [{ required: ['max'], properties: { max: true } }, { required: ['min'], properties: { min: true } }] });

/**
 * A candidate held against a baseline artifact. A regression needs both: the
 * worsening factor exceeds max_ratio AND the change is significant.
 */
export const RelativeGate = z
  .object({
    metric: z.string(),
    stat: Stat.default('median'),
    max_ratio: z
      .number()
      .gt(1)
      .describe('largest tolerated worsening factor (candidate/baseline for lower-is-better, baseline/candidate for higher-is-better)'),
    alpha: z.number().gt(0).lt(1).default(0.05).describe('significance level of the Mann-Whitney U test'),
    where: Where.optional(),
  })
  .strict();

export const Gate = z.union([RelativeGate, AbsoluteGate]);
export type Gate = z.infer<typeof Gate>;
export type RelativeGate = z.infer<typeof RelativeGate>;
export type AbsoluteGate = z.infer<typeof AbsoluteGate>;

/** Something a cell needs from the host; a cell missing it is `skipped` with the reason. */
export const Requirement = z
  .object({
    binary: z.string().optional().describe('a program that must be on PATH; {param} is substituted'),
    root: z.boolean().optional().describe('the run must be uid 0'),
    kvm: z.boolean().optional().describe('/dev/kvm must be usable (found by booting a probe guest)'),
    where: Where.optional().describe('only cells matching this need it'),
  })
  .strict();
export type Requirement = z.infer<typeof Requirement>;

export const Sampling = z
  .object({
    warmup: z.number().int().min(0).default(1).describe('runs before sampling, discarded'),
    iterations: z.number().int().min(1).default(10).describe('samples to take (at least this many unless max_seconds ends the cell)'),
    max_iterations: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe('with min_seconds: keep sampling past iterations up to this many'),
    min_seconds: z.number().min(0).default(0).describe('keep sampling until this much time has passed (bounded by max_iterations)'),
    max_seconds: z.number().gt(0).default(300).describe('time budget of one cell; a cell cut short is marked truncated'),
    timeout_s: z.number().gt(0).default(60).describe('a single sample taking longer fails the cell'),
    concurrency: z.number().int().min(1).default(1).describe('samples in flight at once (a matrix key `concurrency` overrides it per cell)'),
  })
  .strict();
export type Sampling = z.infer<typeof Sampling>;

/** One side of a ratio: a metric in exactly one cell. */
export const RatioSide = z
  .object({ metric: z.string(), where: Where })
  .strict();

/**
 * A claim that is a ratio measured side by side in one run: median of `of`
 * over median of `to` (e.g. our launcher over the bare tool), with a
 * bootstrap CI, and an optional goal the ratio should stay under.
 */
export const Ratio = z
  .object({
    name: Name,
    of: RatioSide,
    to: RatioSide,
    goal: z.object({ max: z.number().gt(0) }).strict().optional(),
    description: z.string().optional(),
  })
  .strict();
export type Ratio = z.infer<typeof Ratio>;

/**
 * A figure someone else published for what one cell measures, shown beside
 * ours on the site and marked as not measured here. Never a sample: gates,
 * ratios, compare and history read cells only.
 */
export const PublishedFigure = z
  .object({
    publisher: z.string().min(1).describe('who published it, as the site names them ("published by <publisher>"), e.g. agentkernel'),
    source: z.string().min(1).describe('where it is written: a URL, or owner/repo/path at a commit'),
    date: z.string().min(1).optional().describe('when it was published or last changed, as the source says'),
    version: z.string().min(1).optional().describe('the version or commit of the publisher\'s code the figure is for'),
    host: z.string().min(1).describe('the machine it was measured on, as the source describes it'),
    measures: z.string().min(1).describe('what the figure times, as the source describes it (its command, concurrency, statistic)'),
    metric: z.string().describe('the metric of this rig it corresponds to'),
    where: Where.describe('the one cell it corresponds to'),
    stat: Stat.optional().describe('the statistic of ours it stands beside (default median)'),
    value: z.number().describe('the figure, as published'),
    unit: z.string().min(1).describe('its unit, as published'),
    as_written: z.string().min(1).optional().describe('the figure exactly as the source writes it, e.g. "~350ms"'),
    note: z.string().optional().describe('how it differs from what the cell measures'),
  })
  .strict();
export type PublishedFigure = z.infer<typeof PublishedFigure>;

/** A command: an argv list run directly, or a string run with `sh -c`. */
export const CommandLine = z.union([z.string().min(1), z.array(z.string()).min(1)]);
export type CommandLine = z.infer<typeof CommandLine>;

const matrixKeyValues = z.array(z.union([Scalar, z.null()])).min(1);

/** Cartesian product of its keys, then `exclude` removes and `include` adds or extends cells (as CI matrices do). */
export const Matrix = z
  .object({
    include: z.array(z.record(z.string(), z.unknown())).optional(),
    exclude: z.array(z.record(z.string(), Scalar)).optional(),
  })
  .catchall(matrixKeyValues);
/** Written by hand: zod's inferred type for a catchall object rejects object literals with include/exclude. */
export type Matrix = {
  include?: Record<string, unknown>[];
  exclude?: Record<string, Scalar>[];
  [axis: string]: (Scalar | null)[] | Record<string, unknown>[] | undefined;
};

export const RigFile = z
  .object({
    name: Name.describe('the file name without .rig.yaml; the mise task is bench:<name>'),
    title: z.string().min(1),
    claim: z.string().min(1).describe('what the rig shows, in one sentence'),
    workload: z.string().min(1).describe('a registered workload, or `command`'),
    params: z.record(z.string(), z.unknown()).default({}).describe('workload parameters; cell parameters override them'),
    matrix: Matrix.default({}),
    requires: z.array(Requirement).default([]),
    setup: CommandLine.optional().describe(
      'once per run, before the first cell, in rigor\'s working directory: an argv list or a shell string (sh -c); {scratch} is the run\'s scratch directory (also $RIGOR_SCRATCH)',
    ),
    cleanup: CommandLine.optional().describe('once per run, after the last cell, also after a failure or Ctrl-C; as setup'),
    sampling: Sampling.prefault({}),
    metrics: z
      .record(Name, MetricDef)
      .refine((m) => Object.keys(m).length > 0, { message: 'at least one metric' })
      .meta({ minProperties: 1 }),
    gates: z.array(Gate).default([]),
    // Optional, not defaulted: artifacts written before ratios existed embed definitions without the field.
    ratios: z.array(Ratio).optional().describe('claims measured as the ratio of two cells of this run'),
    // Optional, not defaulted, as ratios: older artifacts embed definitions without the field.
    published: z
      .array(PublishedFigure)
      .optional()
      .describe('figures others published for cells of this rig, shown beside ours on the site as published, not measured here'),
    notes: z.string().optional(),
  })
  .strict();
export type Rig = z.infer<typeof RigFile>;
/** A rig as written, before defaults (what the JSON Schema describes). */
export type RigInput = z.input<typeof RigFile>;
