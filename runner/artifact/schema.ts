/**
 * The artifact contract: one JSON file per rig run. `schemas/artifact.schema.json`
 * is generated from this and every artifact is checked against that file with
 * ajv before it is written.
 */
import { z } from 'zod';
import { CLOCK_BY_KIND, MetricDef, RigFile } from '../rig/schema.ts';

/**
 * v2 added an A/B run's base side, interleaved rounds and paired gate results,
 * all optional: a v1 artifact is a valid v2 one with its old id, and stays valid.
 */
export const ARTIFACT_SCHEMA_ID = 'urn:rigor:artifact:v2';
export const ARTIFACT_SCHEMA_IDS = ['urn:rigor:artifact:v1', ARTIFACT_SCHEMA_ID] as const;

const Interval = z.object({ low: z.number(), high: z.number() }).strict();

/** Descriptive statistics of one metric in one cell (runner/stats/summary.ts). */
export const Summary = z
  .object({
    n: z.number().int().min(1),
    min: z.number(),
    max: z.number(),
    mean: z.number(),
    median: z.number(),
    p50: z.number(),
    p90: z.number(),
    p95: z.number(),
    p99: z.number(),
    stddev: z.number().nullable().describe('sample standard deviation (n-1); null when n < 2'),
    mad: z.number().describe('median absolute deviation, unscaled'),
    cv: z.number().nullable().describe('stddev / mean; null when n < 2 or mean is 0'),
    ci95_mean: Interval.nullable().describe('seeded percentile bootstrap; null when n < 2'),
    ci95_median: Interval.nullable().describe('seeded percentile bootstrap; null when n < 2'),
    outliers: z
      .object({
        method: z.literal('modified-z-score'),
        threshold: z.number(),
        low: z.number().int().min(0),
        high: z.number().int().min(0),
        note: z
          .string()
          .optional()
          .describe('why none were counted: fewer samples than the modified z-score needs (absent in artifacts written before rigor had it)'),
      })
      .strict()
      .describe('counted and reported, never removed'),
  })
  .strict();
export type Summary = z.infer<typeof Summary>;

/** A batched metric's per-call cost: the slope of batch time over calls in the batch (runner/stats/slope.ts). */
export const Slope = z
  .object({
    method: z.literal('ols-through-origin').describe('ordinary least squares through the origin: slope = Σ x·y / Σ x², x = calls in a batch, y = the batch time'),
    estimate: z.number().describe('the per-call cost, in the metric unit'),
    ci95: Interval.nullable().describe('seeded percentile bootstrap over the batches; null when there are fewer than 2'),
    r2: z.number().nullable().describe('1 - Σ(y - slope·x)² / Σ(y - mean y)²; null when every batch took the same time'),
  })
  .strict();
export type Slope = z.infer<typeof Slope>;

export const MetricResult = MetricDef.extend({
  samples: z.array(z.number()).describe('every raw sample, in the order taken; for a batched metric, each batch time divided by its calls'),
  rounds: z
    .array(z.number().int().min(0))
    .optional()
    .describe('interleaved runs: the round (0-based) each sample was taken in, parallel to samples'),
  batch_iterations: z
    .array(z.number().int().min(1))
    .optional()
    .describe('a batched metric (micro-benchmarks): the calls in each batch, parallel to samples'),
  summary: Summary.nullable().describe('null when there are no samples'),
  slope: Slope.nullable().optional().describe('a batched metric: its value, the per-call cost fitted over the batches; null when there are no samples'),
})
  .strict()
  .meta(CLOCK_BY_KIND);
export type MetricResult = z.infer<typeof MetricResult>;

export const CellStatus = z.enum(['ok', 'skipped', 'failed']);

export const CellResult = z
  .object({
    id: z.string().describe('stable id from the cell parameters, e.g. "backend=bwrap,concurrency=1"'),
    params: z.record(z.string(), z.unknown()).describe('matrix values of this cell (with include extras)'),
    status: CellStatus,
    reason: z.string().optional().describe('why a cell was skipped or failed'),
    concurrency: z.number().int().min(1),
    warmup: z.number().int().min(0),
    started_at: z.iso.datetime().optional(),
    duration_s: z.number().min(0).optional(),
    truncated: z.string().optional().describe('why sampling stopped before the planned iterations'),
    facts: z.record(z.string(), z.unknown()).optional().describe('what the workload observed besides samples (cache drops done, tool versions, derived ratios)'),
    metrics: z.record(z.string(), MetricResult),
  })
  .strict();
export type CellResult = z.infer<typeof CellResult>;

export const GateVerdict = z.enum(['pass', 'fail', 'skipped', 'needs-baseline']);
export const GateResult = z
  .object({
    gate: z.number().int().min(0).describe('index of the gate in the rig'),
    kind: z.enum(['absolute', 'relative']),
    metric: z.string(),
    stat: z.string(),
    cell: z.string().describe('cell id the gate was applied to'),
    verdict: GateVerdict,
    value: z.number().nullable(),
    bound: z.object({ min: z.number().optional(), max: z.number().optional(), max_ratio: z.number().optional() }).strict(),
    baseline_value: z.number().nullable().optional(),
    ratio: z.number().nullable().optional().describe('worsening factor: >1 is worse'),
    ratio_ci95: Interval.nullable().optional(),
    p_value: z.number().nullable().optional().describe('two-sided: Mann-Whitney U across runs, Wilcoxon signed-rank for paired rounds'),
    method: z
      .enum(['cross-run', 'paired'])
      .optional()
      .describe('cross-run: two artifacts measured at different times; paired: both sides of one A/B run, round by round'),
    test: z.string().optional().describe('the test p_value comes from, by name'),
    p_adjusted: z.number().nullable().optional().describe('p_value after the correction over every comparison the gate run judged'),
    correction: z.string().optional().describe('the multiple-comparison correction applied, by name'),
    rounds: z.number().int().min(0).optional().describe('paired: rounds in which both sides had samples'),
    detail: z.string(),
  })
  .strict();
export type GateResult = z.infer<typeof GateResult>;

const RatioSideResult = z
  .object({
    cell: z.string(),
    metric: z.string(),
    unit: z.string(),
    median: z.number().nullable(),
    slope: z.number().nullable().optional().describe('the slope of a batched metric (micro-benchmarks)'),
  })
  .strict();

/** A rig's ratio, computed from the raw samples of two cells of this artifact. */
export const RatioResult = z
  .object({
    name: z.string(),
    of: RatioSideResult,
    to: RatioSideResult,
    stat: z.enum(['median', 'slope']).optional().describe('what is divided: slopes when both sides are batched, else medians (absent in older artifacts: medians)'),
    ratio: z.number().nullable().describe('median(of) / median(to), or slope(of) / slope(to); null when a side has no samples'),
    ci95: Interval.nullable().describe('seeded bootstrap of the ratio of medians, or of slopes (over batches)'),
    goal: z.object({ max: z.number() }).strict().optional(),
    goal_met: z.boolean().nullable().optional(),
    detail: z.string(),
  })
  .strict();
export type RatioResult = z.infer<typeof RatioResult>;

const Kvm = z
  .object({
    status: z
      .enum(['usable', 'absent', 'present-but-unusable', 'unprobed'])
      .describe('unprobed: /dev/kvm exists but no probe guest could be started (reason says what is missing)'),
    reason: z.string(),
    probe_ms: z.number().nullable().describe('how long the probe took; null when not probed'),
    cached: z.boolean().describe('the probe result was reused from earlier in this boot'),
  })
  .strict();

const Dmi = z
  .object({
    sys_vendor: z.string().nullable(),
    product_name: z.string().nullable(),
    product_version: z.string().nullable(),
    board_vendor: z.string().nullable(),
    board_name: z.string().nullable(),
    bios_vendor: z.string().nullable(),
    bios_version: z.string().nullable(),
  })
  .strict()
  .describe('/sys/class/dmi/id; a field is null when its file is absent or empty');

/** What the numbers depend on, as runner/host/fingerprint.ts reads it; `id` is the digest of the rest. */
export const HostFingerprint = z
  .object({
    id: z.string().regex(/^[0-9a-f]{12}$/).describe('first 12 hex of sha256 over the other fields (keys sorted)'),
    cpu_model: z.string().nullable().describe('/proc/cpuinfo "model name"; null when absent'),
    cpu_flags_sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .nullable()
      .describe('sha256 of the first CPU\'s /proc/cpuinfo flags (arm: Features), sorted, space-separated; null when absent'),
    microcode: z.string().nullable().describe('/proc/cpuinfo "microcode" (distinct values joined by ","); null when absent'),
    logical_cpus: z.number().int().min(1),
    kernel_release: z.string().describe('uname -r'),
    kernel_build: z.string().describe('uname -v'),
    dmi: Dmi.nullable().describe('null when /sys/class/dmi/id is absent (many microVMs)'),
    memory_total_mib: z
      .number()
      .int()
      .min(0)
      .describe('/proc/meminfo MemTotal in MiB, rounded to the nearest 128 MiB: another kernel or boot moves it by some hundred kB'),
    virtualization: z
      .string()
      .nullable()
      .describe('"none", "kvm", "xen", "microsoft", "vmware", "oracle", "qemu", "amazon", ... or "vm-other" (a hypervisor nothing names); null when unknown'),
  })
  .strict();
export type HostFingerprint = z.infer<typeof HostFingerprint>;

export const Host = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/).describe('short stable id used in file names'),
    hostname: z.string(),
    os: z.object({ id: z.string(), version_id: z.string(), pretty_name: z.string() }).strict(),
    kernel: z.object({ release: z.string(), version: z.string() }).strict(),
    arch: z.string(),
    cpu: z.object({ model: z.string(), logical_cpus: z.number().int().min(1) }).strict(),
    memory: z.object({ total_bytes: z.number().int(), available_bytes: z.number().int() }).strict(),
    load: z
      .object({ before: z.array(z.number()).length(3), after: z.array(z.number()).length(3).nullable() })
      .strict()
      .describe('1, 5 and 15 minute load averages'),
    cpu_governor: z.string().nullable().describe('null when the host exposes no cpufreq (most VMs)'),
    node: z.string(),
    tools: z.record(z.string(), z.string().nullable()).describe('versions of the tools the rig used; null = not installed'),
    virtualization: z.object({ kvm: Kvm }).strict(),
    warnings: z.array(z.string()).describe('what doctor saw that can bend numbers, with advice'),
    fingerprint: HostFingerprint.optional().describe(
      'what the numbers depend on besides the host id, which VM images clone (absent in artifacts written before rigor had it)',
    ),
  })
  .strict();
export type Host = z.infer<typeof Host>;

/** How an interleaved run was ordered: every round ran every slot k times, in the order listed. */
export const Interleave = z
  .object({
    seed: z.number().int().describe('seed of the generator that shuffled each round'),
    rounds_planned: z.number().int().min(0),
    rounds_done: z.number().int().min(0).describe('rounds in which every slot took its samples'),
    per_round: z.record(z.string(), z.number().int().min(1)).describe('k: samples per round, by slot'),
    warmup_round: z.boolean().describe('a round of warmup runs (discarded) came first'),
    order: z.array(z.array(z.string())).describe('slots in the order they ran, one list per round; A/B slots are "base:<cell>" and "head:<cell>"'),
    truncated: z.string().optional().describe('why the rounds stopped before the plan ended'),
  })
  .strict();
export type Interleave = z.infer<typeof Interleave>;

export const AbSide = z
  .object({
    ref: z.string().nullable().describe('the git ref given; null for the working tree'),
    commit: z.string().nullable(),
    dirty: z.boolean(),
    dirty_paths: z.array(z.string()),
    tree: z.enum(['worktree', 'working-tree']).describe('worktree: a temporary git worktree of the commit; working-tree: the checkout rigor ran from'),
    dependencies: z.enum(['own', 'linked', 'installed']).describe("own: the checkout's node_modules; linked: the same lockfile, so the driver's node_modules; installed: npm ci in the worktree"),
    rig_sha256: z.string().regex(/^[0-9a-f]{64}$/).describe('hash of this side\'s rig file'),
  })
  .strict();
export type AbSide = z.infer<typeof AbSide>;

export const Ab = z
  .object({
    base: AbSide,
    head: AbSide,
    base_cells: z.array(CellResult).describe('the base side, cell for cell as `cells` holds the head side'),
  })
  .strict();
export type Ab = z.infer<typeof Ab>;

/** The seeded percentile bootstrap behind every ci95 of an artifact (runner/stats/bootstrap.ts). */
export const Bootstrap = z
  .object({
    seed: z.number().int().describe('seed of the generator each interval starts from'),
    resamples: z.number().int().min(1),
    level: z.number().gt(0).lt(1),
    exact_max_n: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe("up to this many samples (or batches) each resample is n draws; above it, a resample's statistic is drawn from its large-sample normal distribution (absent in artifacts written before rigor had the approximation: always n draws)"),
  })
  .strict();

export const Artifact = z
  .object({
    schema: z.enum(ARTIFACT_SCHEMA_IDS),
    tool: z.object({ name: z.literal('rigor'), version: z.string() }).strict(),
    rig: z
      .object({
        name: z.string(),
        path: z.string().describe('path of the rig file relative to the repository'),
        sha256: z.string().regex(/^[0-9a-f]{64}$/),
        definition: RigFile,
      })
      .strict(),
    run: z
      .object({
        id: z.string(),
        command_line: z.array(z.string()),
        started_at: z.iso.datetime(),
        finished_at: z.iso.datetime(),
        status: z.enum(['complete', 'interrupted', 'failed']),
        error: z.string().optional(),
        overrides: z.record(z.string(), z.unknown()).describe('--set and --iterations given on the command line'),
        imported_from: z.string().optional().describe('set when the artifact was converted from another tool'),
        trial: z
          .boolean()
          .optional()
          .describe('true for a try-out (rigor run --trial): written outside results/ by default, never taken for the newest run of a rig name'),
        mode: z
          .enum(['sequential', 'interleaved', 'ab'])
          .optional()
          .describe('sequential: cell after cell (absent in older artifacts); interleaved: the cells in shuffled rounds; ab: two commits in shuffled rounds'),
      })
      .strict(),
    git: z
      .object({
        commit: z.string().nullable(),
        branch: z.string().nullable(),
        dirty: z.boolean(),
        dirty_paths: z.array(z.string()),
      })
      .strict(),
    host: Host,
    environment: z.record(z.string(), z.unknown()).describe('what the rig varied outside the matrix'),
    cells: z.array(CellResult),
    gates: z.array(GateResult),
    ratios: z.array(RatioResult).optional().describe('the rig ratios (absent in artifacts written before rigor had them)'),
    interleave: Interleave.optional().describe('set when the cells (or the two sides) were measured in shuffled rounds'),
    ab: Ab.optional().describe('set by rigor ab: `cells` are the head side, `ab.base_cells` the base side'),
    bootstrap: Bootstrap.optional().describe('how every seeded bootstrap interval in it was drawn (absent in artifacts written before rigor recorded it: the same constants)'),
    content_sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .optional()
      .describe('sha256 of the canonical form: this artifact without this field, keys sorted, no whitespace, UTF-8 (runner/artifact/digest.ts); absent in artifacts written before rigor had it'),
  })
  .strict();
export type Artifact = z.infer<typeof Artifact>;

