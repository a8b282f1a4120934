/**
 * Two artifacts of a rig side by side, as `rigor compare` judges them (the
 * comparison itself is runner/compare/compare.ts); medians are linked to the
 * raw samples they were computed from. Pure.
 */
import { compareArtifacts, type ComparisonRow } from '../../compare/compare.ts';
import { comparisonLegend, rowVerdict } from '../../compare/format.ts';
import { changeRatioWithCI } from '../../report/change-words.ts';
import { artifactRef, type ArtifactInput, type ArtifactRef } from './artifact-ref.ts';
import { sourcedStat } from './claims.ts';
import { hostBlock, type HostBlock } from './host.ts';
import type { Shown } from './source.ts';

export interface CompareRow extends Omit<ComparisonRow, 'a' | 'b'> {
  a: { value: Shown | null; n: number };
  b: { value: Shown | null; n: number };
  /** The verdict in the words `rigor compare` and `rigor gate` use: "same (within ±2% noise)". */
  verdictText: string;
  /** B/A with the digits that tell it from the noise threshold, and its CI. */
  ratioShown: string;
}

export interface ComparePage {
  rig: string;
  a: ArtifactRef;
  b: ArtifactRef;
  hostsDiffer: boolean;
  alpha: number;
  warnings: string[];
  rows: CompareRow[];
  /** What the ratio divides, which test, what a verdict needs: the legend `rigor compare` prints. */
  legend: string;
  tally: { verdict: string; count: number }[];
  hosts: HostBlock[];
}

/** A side's median, linked to the samples it is the median of; a slope, linked to where the artifact stores it. */
function sourced(input: ArtifactInput, row: ComparisonRow, side: { value: number | null; n: number }) {
  return { value: side.value === null ? null : sourcedStat(input, row, side.value, row.unit), n: side.n };
}

function tally(rows: ComparisonRow[]): ComparePage['tally'] {
  const counts = new Map<string, number>();
  for (const row of rows) counts.set(row.verdict, (counts.get(row.verdict) ?? 0) + 1);
  return [...counts].map(([verdict, count]) => ({ verdict, count }));
}

/** B against A, as `rigor compare A B` does. */
export function comparePage(a: ArtifactInput, b: ArtifactInput): ComparePage {
  const comparison = compareArtifacts(a.artifact, b.artifact, { labels: { a: a.path, b: b.path } });
  return {
    rig: b.artifact.rig.name,
    a: artifactRef(a),
    b: artifactRef(b),
    hostsDiffer: comparison.hostsDiffer,
    alpha: comparison.alpha,
    warnings: comparison.warnings,
    rows: comparison.rows.map((row) => ({
      ...row,
      a: sourced(a, row, row.a),
      b: sourced(b, row, row.b),
      verdictText: rowVerdict(row, comparison.alpha),
      ratioShown: changeRatioWithCI(row),
    })),
    legend: comparisonLegend(comparison),
    tally: tally(comparison.rows),
    hosts: [hostBlock(a), hostBlock(b)],
  };
}
