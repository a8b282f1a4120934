/**
 * A fleet run as one page: its hosts side by side per cell and metric (every
 * number linked to its host's artifact, a skipped cell's dash to its reason),
 * each host's outcome and log tail, and the host blocks. Pure.
 */
import type { FleetRecord } from '../../fleet/record.ts';
import { artifactRef, type ArtifactInput, type ArtifactRef } from './artifact-ref.ts';
import { splitClock } from './clock.ts';
import { hostBlock, type HostBlock } from './host.ts';
import { cellValue, type MatrixValue } from './matrix.ts';
import { Footnotes } from './source.ts';

/** A fleet record read from results/<rig>/fleet/, with its path under the site root. */
export interface FleetRecordInput {
  path: string;
  record: FleetRecord;
}

export interface FleetHostRow {
  name: string;
  outcome: string;
  ok: boolean;
  reason: string | null;
  logTail: string[];
  artifact: ArtifactRef | null;
  /** The record names an artifact that is not in results/ (deleted, or not merged here). */
  missingArtifact: string | null;
}

export interface FleetMetricTable {
  name: string;
  unit: string;
  start: string;
  stop: string;
  rows: { cell: string; values: MatrixValue[] }[];
}

export interface FleetPage {
  /** Page path under the site root. */
  path: string;
  rig: string;
  recordPath: string;
  id: string;
  kind: FleetRecord['kind'];
  status: FleetRecord['status'];
  startedAt: string;
  commitShort: string;
  dirty: boolean;
  retryOf: string | null;
  ansible: { inventory: string; limit: string | null; version: string | null; exitCode: number | null } | null;
  hosts: FleetHostRow[];
  /** The hosts with an artifact, in the record's order: the columns of the tables. */
  columns: string[];
  metrics: FleetMetricTable[];
  footnotes: { n: number; text: string }[];
  hostBlocks: HostBlock[];
  notes: string[];
  /** The fleet's own time and the hosts' measuring, in seconds (record.timing); null for a merge. */
  timing: FleetRecord['timing'];
  /** How to compare two of the hosts, as `rigor compare` does across hosts. */
  compareCommand: string | null;
}

/** results/<rig>/fleet/<stem>.json → fleet/<rig>/<stem>.html */
export function fleetPagePath(recordPath: string, rig: string): string {
  return `fleet/${rig}/${recordPath.split('/').at(-1)!.replace(/\.json$/, '')}.html`;
}

export function fleetPage(input: FleetRecordInput, artifacts: ReadonlyMap<string, ArtifactInput>): FleetPage {
  const { record } = input;
  const withArtifact = record.hosts.flatMap((host) => {
    const found = host.artifact ? artifacts.get(`results/${host.artifact}`) : undefined;
    return found ? [{ host, input: found }] : [];
  });
  const footnotes = new Footnotes();
  const definition = withArtifact[0]?.input.artifact.rig.definition;
  const cellIds = [...new Set(withArtifact.flatMap(({ input: a }) => a.artifact.cells.map((cell) => cell.id)))];
  const metrics = Object.entries(definition?.metrics ?? {}).map(([name, def]): FleetMetricTable => ({
    name,
    unit: def.unit,
    ...splitClock(def.clock),
    rows: cellIds.map((cell) => ({
      cell,
      values: withArtifact.map(({ input: a }) => {
        const index = a.artifact.cells.findIndex((c) => c.id === cell);
        return index < 0 ? { dash: footnotes.dash('this host\'s artifact has no such cell') } : cellValue(a, index, name, footnotes);
      }),
    })),
  }));
  const hosts = record.hosts.map((host): FleetHostRow => {
    const found = host.artifact ? artifacts.get(`results/${host.artifact}`) : undefined;
    return {
      name: host.name,
      outcome: host.outcome,
      ok: host.outcome === 'ok',
      reason: host.reason,
      logTail: host.log_tail,
      artifact: found ? artifactRef(found) : null,
      missingArtifact: host.artifact && !found ? `results/${host.artifact}` : null,
    };
  });
  const [first, second] = withArtifact;
  return {
    path: fleetPagePath(input.path, record.rig.name),
    rig: record.rig.name,
    recordPath: input.path,
    id: record.id,
    kind: record.kind,
    status: record.status,
    startedAt: record.started_at,
    commitShort: record.source.commit ? record.source.commit.slice(0, 7) : 'several or no commit',
    dirty: record.source.dirty,
    retryOf: record.retry_of,
    ansible: record.ansible
      ? { inventory: record.ansible.inventory, limit: record.ansible.limit, version: record.ansible.version, exitCode: record.ansible.exit_code }
      : null,
    hosts,
    columns: withArtifact.map(({ host }) => host.name),
    metrics,
    footnotes: footnotes.list,
    hostBlocks: withArtifact.map(({ input: a }) => hostBlock(a)),
    notes: record.notes,
    timing: record.timing,
    compareCommand: first && second ? `rigor compare ${first.input.path} ${second.input.path}` : null,
  };
}

/** Every record's page, newest first. */
export function fleetPages(records: readonly FleetRecordInput[], artifacts: readonly ArtifactInput[]): FleetPage[] {
  const byPath = new Map(artifacts.map((input) => [input.path, input]));
  return [...records]
    .sort((a, b) => Date.parse(b.record.started_at) - Date.parse(a.record.started_at) || (a.path < b.path ? 1 : -1))
    .map((input) => fleetPage(input, byPath));
}
