/**
 * Every number an artifact stores that its raw samples determine, recomputed
 * by the code that computed it at run time — summaries and slopes
 * (runner/stats, as runner/run/cell-result.ts calls them), ratios
 * (runner/run/ratios.ts) and gate results (runner/gate/evaluate.ts, paired.ts)
 * — and compared with what is stored. A stored value that disagrees is an
 * invalid artifact (DESIGN: summaries are recomputed from the samples). Pure.
 */
import { evaluateGates } from '../gate/evaluate.ts';
import { evaluatePairedGates } from '../gate/paired.ts';
import { RigFile, type Rig } from '../rig/schema.ts';
import { computeRatios } from '../run/ratios.ts';
import { summarize, summarizeBatches } from '../stats/index.ts';
import { MIN_OUTLIER_SAMPLES, modifiedZOutliers } from '../stats/outliers.ts';
import type { Artifact, CellResult, Summary } from './schema.ts';

/**
 * Two numbers agree when they are equal or differ by at most this fraction of
 * the larger: the same code on the same samples gives the same double (JSON
 * keeps every double exactly), so this only absorbs a last-bit difference of
 * another platform's Math library; an edit of any visible digit exceeds it.
 */
export const RELATIVE_TOLERANCE = 1e-9;

/** Text the artifact stores beside its numbers: written from them, not compared (the wording changes between versions). */
const NOT_COMPARED = new Set(['detail', 'note']);
/** Seeded bootstrap intervals of summaries, slopes and ratios: recomputed only when asked (`intervals`), as they cost 2,000 draws per sample. */
const INTERVALS = new Set(['ci95_mean', 'ci95_median', 'ci95']);

export interface RecomputeOptions {
  /** Recompute the summaries' bootstrap intervals too (rigor validate, writing); readers leave them out for speed. Default true. */
  intervals?: boolean;
}

export interface StoredDisagreement {
  /** JSON pointer of the stored value. */
  pointer: string;
  stored: unknown;
  recomputed: unknown;
}

/** A JSON pointer token: ~ and / escaped (RFC 6901). */
export function pointerToken(key: string | number): string {
  return String(key).replaceAll('~', '~0').replaceAll('/', '~1');
}

export function sameNumber(stored: number, recomputed: number): boolean {
  if (stored === recomputed) return true;
  return Math.abs(stored - recomputed) <= RELATIVE_TOLERANCE * Math.max(Math.abs(stored), Math.abs(recomputed));
}

/**
 * Walks what was recomputed and reports each leaf whose stored counterpart
 * differs. A field the stored value lacks is not compared: the schema has
 * already refused a missing required field, so it is an optional one an older
 * rigor did not write.
 */
function compareInto(out: StoredDisagreement[], pointer: string, stored: unknown, recomputed: unknown, skip: ReadonlySet<string> = NOT_COMPARED): void {
  if (stored === undefined) return;
  if (recomputed !== null && typeof recomputed === 'object' && !Array.isArray(recomputed)) {
    if (stored === null || typeof stored !== 'object' || Array.isArray(stored)) {
      out.push({ pointer, stored, recomputed });
      return;
    }
    for (const [key, value] of Object.entries(recomputed)) {
      if (skip.has(key)) continue;
      compareInto(out, `${pointer}/${pointerToken(key)}`, (stored as Record<string, unknown>)[key], value, skip);
    }
    return;
  }
  if (typeof recomputed === 'number' && typeof stored === 'number') {
    if (!sameNumber(stored, recomputed)) out.push({ pointer, stored, recomputed });
    return;
  }
  if (Array.isArray(recomputed) && Array.isArray(stored) && JSON.stringify(recomputed) === JSON.stringify(stored)) return;
  if (stored !== recomputed) out.push({ pointer, stored, recomputed });
}

/** The rig as the run judged it: the embedded definition with the rig schema's defaults (a gate's stat, alpha). */
function embeddedRig(artifact: Artifact): Rig {
  const parsed = RigFile.safeParse(artifact.rig.definition);
  return parsed.success ? parsed.data : artifact.rig.definition;
}

/**
 * A summary as the rigor that wrote it counted outliers: one without
 * outliers.note predates MIN_OUTLIER_SAMPLES and counted them at any n.
 */
function asWrittenThen(recomputed: Summary | null, stored: Summary | null, samples: readonly number[]): Summary | null {
  if (!recomputed || !stored || stored.outliers.note !== undefined || samples.length >= MIN_OUTLIER_SAMPLES) return recomputed;
  return { ...recomputed, outliers: { method: recomputed.outliers.method, threshold: recomputed.outliers.threshold, ...modifiedZOutliers(samples) } };
}

const skipped = (intervals: boolean): ReadonlySet<string> => (intervals ? NOT_COMPARED : new Set([...NOT_COMPARED, ...INTERVALS]));

function cellSummaries(out: StoredDisagreement[], cells: readonly CellResult[], at: string, intervals: boolean): void {
  const skip = skipped(intervals);
  cells.forEach((cell, i) => {
    for (const [name, metric] of Object.entries(cell.metrics)) {
      const base = `${at}/${i}/metrics/${pointerToken(name)}`;
      // A sample that is not finite has no statistics; the schema refuses it before this.
      if (!metric.samples.every(Number.isFinite)) continue;
      compareInto(out, `${base}/summary`, metric.summary, asWrittenThen(summarize(metric.samples, { intervals }), metric.summary, metric.samples), skip);
      const counts = metric.batch_iterations;
      if (counts && counts.length === metric.samples.length && counts.every((count) => count > 0)) {
        compareInto(out, `${base}/slope`, metric.slope, summarizeBatches(counts, metric.samples, { intervals }), skip);
      }
    }
  });
}

/**
 * Every stored summary, slope, ratio and gate result that disagrees with the
 * one recomputed from the samples and the embedded rig. An imported artifact
 * (run.imported_from) stores no gates or ratios: none are recomputed for it.
 */
export function recomputeDisagreements(artifact: Artifact, { intervals = true }: RecomputeOptions = {}): StoredDisagreement[] {
  const out: StoredDisagreement[] = [];
  cellSummaries(out, artifact.cells, '/cells', intervals);
  if (artifact.ab) cellSummaries(out, artifact.ab.base_cells, '/ab/base_cells', intervals);
  if (artifact.run.imported_from !== undefined) return out;
  const rig = embeddedRig(artifact);
  if (artifact.ratios) {
    const ratios = computeRatios(rig.ratios ?? [], artifact.cells, { intervals });
    if (ratios.length !== artifact.ratios.length) out.push({ pointer: '/ratios', stored: `${artifact.ratios.length} ratios`, recomputed: `${ratios.length} ratios` });
    else ratios.forEach((ratio, i) => compareInto(out, `/ratios/${i}`, artifact.ratios![i], ratio, skipped(intervals)));
  }
  const gates = artifact.ab
    ? evaluatePairedGates(rig.gates, rig.metrics, { ...artifact, ab: artifact.ab })
    : evaluateGates(rig.gates, rig.metrics, artifact);
  if (gates.length !== artifact.gates.length) out.push({ pointer: '/gates', stored: `${artifact.gates.length} results`, recomputed: `${gates.length} results` });
  else gates.forEach((gate, i) => compareInto(out, `/gates/${i}`, artifact.gates[i], gate));
  return out;
}

/**
 * The artifact restated from its samples, as `rigor run` would store them:
 * every summary, slope, ratio and gate result made anew and no content digest
 * (the content changed). For tools and tests that change samples on purpose
 * (a synthetic history, a copy made slower); validation then finds nothing to report.
 */
export function restated(artifact: Artifact): Artifact {
  const cells = (list: readonly CellResult[]): CellResult[] =>
    list.map((cell) => ({
      ...cell,
      metrics: Object.fromEntries(
        Object.entries(cell.metrics).map(([name, metric]) => {
          const counts = metric.batch_iterations;
          const slope = counts && counts.length === metric.samples.length && counts.every((count) => count > 0) ? summarizeBatches(counts, metric.samples) : undefined;
          return [name, { ...metric, summary: summarize(metric.samples), ...(metric.slope !== undefined && slope !== undefined && { slope }) }];
        }),
      ),
    }));
  const { content_sha256: _changed, ...rest } = artifact;
  const out: Artifact = { ...rest, cells: cells(artifact.cells), ...(artifact.ab && { ab: { ...artifact.ab, base_cells: cells(artifact.ab.base_cells) } }) };
  if (out.run.imported_from !== undefined) return out;
  const rig = embeddedRig(out);
  return {
    ...out,
    ...(out.ratios && { ratios: computeRatios(rig.ratios ?? [], out.cells) }),
    gates: out.ab ? evaluatePairedGates(rig.gates, rig.metrics, { ...out, ab: out.ab }) : evaluateGates(rig.gates, rig.metrics, out),
  };
}
