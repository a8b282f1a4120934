/** A rig's page: its file, the newest complete artifact's matrix, charts, ratios, gates (judged as `rigor gate` does) and host. Pure. */
import type { Rig } from '../../rig/schema.ts';
import { artifactRef, type ArtifactInput, type ArtifactRef } from './artifact-ref.ts';
import { metricCharts, type MetricCharts } from './charts.ts';
import { gateRows, ratioRows, type GateRow, type RatioRow } from './claims.ts';
import { hostBlock, type HostBlock } from './host.ts';
import { matrixModel, type MatrixModel } from './matrix.ts';
import { publishedRows, type PublishedRow } from './published.ts';
import type { RigView } from './rig-view.ts';
import type { FleetPage } from './fleet-page.ts';

/** A rig file from rigs/: loaded, or the reason it could not be. */
export interface RigInput {
  name: string;
  /** Path under the repository and the site, e.g. rigs/startup.rig.yaml. */
  path: string;
  source: string;
  loaded: { rig: Rig; sha256: string } | { error: string };
}

export interface RigPage {
  name: string;
  title: string;
  claim: string;
  notes: string | null;
  /** The rig file as copied into the site; null when rigs/ has no file for this rig (its artifacts still show). */
  rigFile: { path: string; source: string; error: string | null } | null;
  /** The artifact was made from a different rig file than the one in rigs/ now. */
  rigChanged: boolean;
  /** The command that measures it again; null for a rig only imports made (no rig file, no task). */
  task: string | null;
  /** A rig without a rig file whose every artifact was imported: the files they came from (run.imported_from). */
  importedFrom: string[] | null;
  /** The artifact the page shows: the newest complete run (rig-view.ts), else the newest. */
  newest: ArtifactRef | null;
  /** The complete run before it, which relative gates are judged against (as the compare page compares). */
  baseline: ArtifactRef | null;
  /** Newer artifacts the page does not show, and why. */
  passedOver: { artifact: ArtifactRef; reason: string }[];
  matrix: MatrixModel | null;
  charts: MetricCharts[];
  ratios: RatioRow[];
  gates: GateRow[];
  /** Figures others published for cells of the rig, each beside ours; never measured here. */
  published: PublishedRow[];
  host: HostBlock | null;
  /** Every artifact of the rig, newest first. */
  artifacts: ArtifactRef[];
  /** The rig's fleet runs and merges, newest first: their pages. */
  fleets: { path: string; id: string; startedAt: string; status: string; hosts: number; ok: number }[];
}

/** The files a rig's artifacts were imported from, when it has no rig file and every one of them was imported; else null. */
export function importedOnly(file: RigInput | null, artifacts: ArtifactInput[]): string[] | null {
  if (file || artifacts.length === 0 || artifacts.some((input) => input.artifact.run.imported_from === undefined)) return null;
  return [...new Set(artifacts.map((input) => input.artifact.run.imported_from!))];
}

export function rigPage(name: string, file: RigInput | null, view: RigView, fleets: readonly FleetPage[] = []): RigPage {
  const rig = file && 'rig' in file.loaded ? file.loaded.rig : null;
  const { artifacts, current: newest, baseline } = view;
  const imported = importedOnly(file, artifacts);
  const definition = rig ?? newest?.artifact.rig.definition ?? null;
  const matrix = newest ? matrixModel(newest, rig, file?.path ?? `rigs/${name}.rig.yaml`) : null;
  return {
    name,
    title: definition?.title ?? name,
    claim: definition?.claim ?? '',
    notes: definition?.notes ?? null,
    rigFile: file ? { path: file.path, source: file.source, error: 'error' in file.loaded ? file.loaded.error : null } : null,
    rigChanged: Boolean(newest && file && 'sha256' in file.loaded && newest.artifact.rig.sha256 !== file.loaded.sha256),
    task: imported ? null : `mise run bench:${name}`,
    importedFrom: imported,
    newest: newest ? artifactRef(newest) : null,
    baseline: baseline ? artifactRef(baseline) : null,
    passedOver: view.passedOver.map(({ input, reason }) => ({ artifact: artifactRef(input), reason })),
    matrix,
    charts: newest && matrix ? metricCharts(newest, matrix.columns) : [],
    ratios: newest ? ratioRows(newest) : [],
    gates: newest ? gateRows(newest, view.gates, baseline) : [],
    published: publishedRows(definition, newest),
    host: newest ? hostBlock(newest) : null,
    artifacts: artifacts.map(artifactRef),
    fleets: fleets
      .filter((fleet) => fleet.rig === name)
      .map((fleet) => ({ path: fleet.path, id: fleet.id, startedAt: fleet.startedAt, status: fleet.status, hosts: fleet.hosts.length, ok: fleet.hosts.filter((h) => h.ok).length })),
  };
}
