/** The fleet record of a `rigor fleet merge`: the artifacts a CI matrix (or any other fleet) made, one host each. Pure. */
import { TOOL_VERSION } from '../version.ts';
import type { Artifact } from '../artifact/schema.ts';
import type { Placed } from './merge.ts';
import { sharedHardwareNotes } from './notes.ts';
import type { FleetHost, FleetRecord } from './record.ts';

/** --set values as `rigor run` was given them, from what an artifact records it applied. */
export function setsOf(artifact: Artifact): string[] {
  return Object.entries(artifact.run.overrides)
    .filter(([key]) => key !== 'iterations')
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
}

function hostOf(placed: Placed): FleetHost {
  const { artifact } = placed.step.source;
  const status = artifact.run.status;
  return {
    name: artifact.host.id,
    answered: true,
    outcome: status === 'complete' ? 'ok' : status === 'failed' ? 'rig-failed' : 'interrupted',
    stage: status === 'complete' ? null : 'rig',
    reason: status === 'complete' ? null : `the run is ${status}${artifact.run.error ? `: ${artifact.run.error}` : ''}`,
    log_tail: [],
    artifact: placed.path,
    host_id: artifact.host.id,
    fingerprint: artifact.host.fingerprint?.id ?? null,
    rig_s: null,
  };
}

export interface MergeMeta {
  id: string;
  commandLine: string[];
  startedAt: string;
  finishedAt: string;
}

/** One record per rig: `placed` are that rig's artifacts, at least one. */
export function mergeRecord(placed: Placed[], meta: MergeMeta): FleetRecord {
  const artifacts = placed.map((p) => p.step.source.artifact);
  const first = artifacts[0]!;
  const commits = [...new Set(artifacts.map((a) => a.git.commit))];
  const sets = [...new Set(artifacts.map((a) => JSON.stringify(setsOf(a))))];
  const iterations = [...new Set(artifacts.map((a) => a.run.overrides.iterations ?? null))];
  const notes: string[] = [];
  if (commits.length > 1) notes.push(`the artifacts come from ${commits.length} commits (${commits.map((c) => c?.slice(0, 7) ?? 'none').join(', ')}): source.commit is null`);
  if (sets.length > 1 || iterations.length > 1) notes.push('the artifacts were run with different --set or --iterations: overrides are the first artifact\'s');
  const present = placed.filter((p) => p.step.action === 'present');
  if (present.length > 0) notes.push(`${present.length} artifact(s) were already in the results tree and were not written again`);
  const hosts = placed.map(hostOf);
  notes.push(...sharedHardwareNotes(hosts));
  return {
    schema: 'urn:rigor:fleet-record:v1',
    tool: { name: 'rigor', version: TOOL_VERSION },
    kind: 'merge',
    id: meta.id,
    command_line: meta.commandLine,
    started_at: meta.startedAt,
    finished_at: meta.finishedAt,
    status: hosts.every((h) => h.outcome === 'ok') ? 'complete' : 'partial',
    rig: { name: first.rig.name, path: first.rig.path },
    overrides: { set: setsOf(first), iterations: typeof first.run.overrides.iterations === 'number' ? first.run.overrides.iterations : null },
    source: {
      commit: commits.length === 1 ? commits[0]! : null,
      branch: commits.length === 1 ? first.git.branch : null,
      dirty: artifacts.some((a) => a.git.dirty),
      dirty_paths: [...new Set(artifacts.flatMap((a) => a.git.dirty_paths))],
      archive_sha256: null,
      diff_sha256: null,
      diff_file: null,
    },
    ansible: null,
    timing: null,
    retry_of: null,
    hosts,
    notes,
  };
}
