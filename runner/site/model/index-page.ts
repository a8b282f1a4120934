/** The index: every rig with its claim, headline numbers, gate status, host and commit. Pure. */
import type { Rig } from '../../rig/schema.ts';
import { artifactRef, type ArtifactInput, type ArtifactRef } from './artifact-ref.ts';
import { ratioRows, verdictCounts, type RatioRow, type VerdictCounts } from './claims.ts';
import { cellValue, type MatrixValue } from './matrix.ts';
import { importedOnly, type RigInput } from './rig-page.ts';
import type { RigView } from './rig-view.ts';
import { Footnotes } from './source.ts';

export interface Headline {
  metric: string;
  unit: string;
  clock: string;
  /** What the values are: "median", "slope" (batched metrics), or "median or slope". */
  stat: string;
  rows: { cell: string; value: MatrixValue }[];
}

export interface IndexRig {
  name: string;
  title: string;
  claim: string;
  /** Problem with the rig file in rigs/, when it does not load. */
  invalid: string | null;
  /** The rig has artifacts but no file in rigs/ any more. */
  orphan: boolean;
  /** No rig file, and every artifact imported: the files they came from (no rig file ever existed). */
  importedFrom: string[] | null;
  newest: ArtifactRef | null;
  artifactCount: number;
  headline: Headline | null;
  ratios: RatioRow[];
  gates: VerdictCounts | null;
}

export interface IndexPage {
  rigs: IndexRig[];
  footnotes: { n: number; text: string }[];
  /** Files in results/ that are not valid artifacts, with the reason. */
  problems: { path: string; message: string }[];
  artifactCount: number;
}

/** The metric a rig is judged by: its first gate's, else its first metric. */
function headlineMetric(definition: Rig): string {
  return definition.gates[0]?.metric ?? Object.keys(definition.metrics)[0]!;
}

function headline(newest: ArtifactInput, footnotes: Footnotes): Headline | null {
  const definition = newest.artifact.rig.definition;
  const metric = headlineMetric(definition);
  const def = definition.metrics[metric];
  if (!def) return null;
  // A cell that ran but does not produce this metric (by its workload) has nothing to headline.
  const rows = newest.artifact.cells.flatMap((cell, index) =>
    cell.status === 'ok' && !cell.metrics[metric]?.summary ? [] : [{ cell: cell.id, value: cellValue(newest, index, metric, footnotes) }],
  );
  const stats = new Set(rows.flatMap(({ value }) => ('measured' in value ? [value.measured.stat] : [])));
  return { metric, unit: def.unit, clock: def.clock, stat: stats.size ? [...stats].join(' or ') : 'median', rows };
}

/** `views` holds each rig's artifacts and the one shown (rig-view.ts). */
export function indexPage(
  names: string[],
  files: Map<string, RigInput>,
  views: Map<string, RigView>,
  problems: IndexPage['problems'],
): IndexPage {
  const footnotes = new Footnotes();
  const rigs = names.map((name): IndexRig => {
    const file = files.get(name);
    const view = views.get(name);
    const artifacts = view?.artifacts ?? [];
    const newest = view?.current ?? undefined;
    const rig = file && 'rig' in file.loaded ? file.loaded.rig : null;
    const definition = rig ?? newest?.artifact.rig.definition;
    return {
      name,
      title: definition?.title ?? name,
      claim: definition?.claim ?? '',
      invalid: file && 'error' in file.loaded ? file.loaded.error : null,
      orphan: !file,
      importedFrom: importedOnly(file ?? null, artifacts),
      newest: newest ? artifactRef(newest) : null,
      artifactCount: artifacts.length,
      headline: newest ? headline(newest, footnotes) : null,
      ratios: newest ? ratioRows(newest) : [],
      gates: newest ? verdictCounts(view!.gates) : null,
    };
  });
  const artifactCount = [...views.values()].reduce((sum, view) => sum + view.artifacts.length, 0);
  return { rigs, footnotes: footnotes.list, problems, artifactCount };
}
