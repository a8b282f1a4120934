/**
 * Two artifacts of a rig side by side, as `rigor compare` judges them (the
 * comparison itself is runner/compare/compare.ts); medians are linked to the
 * raw samples they were computed from. Pure.
 */
import { compareArtifacts, type ComparisonRow } from '../../compare/compare.ts';
import { artifactRef, type ArtifactInput, type ArtifactRef } from './artifact-ref.ts';
import { hostBlock, type HostBlock } from './host.ts';
import { pointerOf } from './json-pointer.ts';
import type { Shown } from './source.ts';

export interface CompareRow extends Omit<ComparisonRow, 'a' | 'b'> {
  a: { median: Shown | null; n: number };
  b: { median: Shown | null; n: number };
}

export interface ComparePage {
  rig: string;
  a: ArtifactRef;
  b: ArtifactRef;
  hostsDiffer: boolean;
  alpha: number;
  warnings: string[];
  rows: CompareRow[];
  tally: { verdict: string; count: number }[];
  hosts: HostBlock[];
}

function sourced(input: ArtifactInput, row: ComparisonRow, side: { median: number | null; n: number }) {
  if (side.median === null) return { median: null, n: side.n };
  const index = input.artifact.cells.findIndex((cell) => cell.id === row.cell);
  const median: Shown = {
    artifactPath: input.path,
    pointer: pointerOf('cells', index, 'metrics', row.metric, 'samples'),
    value: side.median,
    unit: row.unit,
    format: 'value',
    derived: 'median',
  };
  return { median, n: side.n };
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
    rows: comparison.rows.map((row) => ({ ...row, a: sourced(a, row, row.a), b: sourced(b, row, row.b) })),
    tally: tally(comparison.rows),
    hosts: [hostBlock(a), hostBlock(b)],
  };
}
