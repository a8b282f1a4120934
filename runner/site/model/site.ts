/**
 * The whole site as data: from the rig files and the artifacts (already read
 * and validated) to one model per page. No I/O; rendering only formats.
 */
import { newestFirst, type ArtifactInput } from './artifact-ref.ts';
import { comparePage, type ComparePage } from './compare.ts';
import { fleetPages, type FleetPage, type FleetRecordInput } from './fleet-page.ts';
import { historyPage, type HistoryPage } from './history.ts';
import { indexPage, type IndexPage } from './index-page.ts';
import { rigPage, type RigInput, type RigPage } from './rig-page.ts';
import { rigView } from './rig-view.ts';

export interface SiteInput {
  rigs: RigInput[];
  artifacts: ArtifactInput[];
  /** Files in results/ that could not be read as artifacts. */
  problems: { path: string; message: string }[];
  /** Commits oldest first (runner/history/commit-order.ts); history places artifacts by it. */
  commitOrder: readonly string[];
  /** Fleet records from results/<rig>/fleet/ (absent: none). */
  fleetRecords?: FleetRecordInput[];
}

export interface SiteModel {
  index: IndexPage;
  rigs: RigPage[];
  /** Each rig's shown artifact against its baseline (rig-view.ts): the newest two complete runs. */
  compares: ComparePage[];
  /** A history per rig with artifacts. */
  histories: HistoryPage[];
  /** A page per fleet run or merge, newest first. */
  fleets: FleetPage[];
  artifacts: ArtifactInput[];
  fleetRecords: FleetRecordInput[];
}

/** Each rig's artifacts, newest first. */
function artifactsByRig(artifacts: ArtifactInput[]): Map<string, ArtifactInput[]> {
  const byRig = new Map<string, ArtifactInput[]>();
  for (const input of newestFirst(artifacts)) {
    const name = input.artifact.rig.name;
    const list = byRig.get(name);
    if (list) list.push(input);
    else byRig.set(name, [input]);
  }
  return byRig;
}

export function buildSiteModel(input: SiteInput): SiteModel {
  const files = new Map(input.rigs.map((rig) => [rig.name, rig]));
  const byRig = artifactsByRig(input.artifacts);
  // Rigs in rigs/ first (captured or not), then rigs only their artifacts still name.
  const names = [...new Set([...input.rigs.map((rig) => rig.name).sort(), ...[...byRig.keys()].sort()])];
  const views = new Map(names.map((name) => [name, rigView(byRig.get(name) ?? [])]));
  const fleets = fleetPages(input.fleetRecords ?? [], input.artifacts);
  const rigs = names.map((name) => rigPage(name, files.get(name) ?? null, views.get(name)!, fleets));
  // The pair the rig page's relative gates are judged on: one pair, so the two pages agree.
  const compares = names.flatMap((name) => {
    const { current: b, baseline: a } = views.get(name)!;
    return a && b ? [comparePage(a, b)] : [];
  });
  return {
    index: indexPage(names, files, views, input.problems),
    rigs,
    compares,
    histories: names.filter((name) => byRig.has(name)).map((name) => historyPage(name, byRig.get(name)!, input.commitOrder)),
    fleets,
    artifacts: input.artifacts,
    fleetRecords: input.fleetRecords ?? [],
  };
}
