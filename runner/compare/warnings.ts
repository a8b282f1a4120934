/** What makes two artifacts less comparable than they look, said before any number. */
import type { Artifact } from '../artifact/schema.ts';

/** True when the artifacts were measured on different machines (host id or CPU model). */
export function hostsDiffer(a: Pick<Artifact, 'host'>, b: Pick<Artifact, 'host'>): boolean {
  return a.host.id !== b.host.id || a.host.cpu.model !== b.host.cpu.model;
}

function hostName(artifact: Artifact, withCpu: boolean): string {
  return withCpu ? `${artifact.host.id}, ${artifact.host.cpu.model}` : artifact.host.id;
}

/**
 * Warnings about comparing `b` against `a`: different hosts (loudest: the
 * difference may be the machine, not the code), different or edited rigs,
 * runs that did not complete.
 */
export function pairWarnings(a: Artifact, b: Artifact, labels: { a: string; b: string }): string[] {
  const warnings: string[] = [];
  if (hostsDiffer(a, b)) {
    const withCpu = a.host.id === b.host.id;
    warnings.push(
      `artifacts come from different hosts (${hostName(a, withCpu)} vs ${hostName(b, withCpu)}): ` +
        'differences may be the machine, not the code; compare runs from one host to judge a change',
    );
  }
  if (a.rig.name !== b.rig.name) {
    warnings.push(
      `artifacts come from different rigs (${a.rig.name} vs ${b.rig.name}): only cells and metrics with the same id and name are compared`,
    );
  } else if (a.rig.sha256 !== b.rig.sha256) {
    warnings.push(
      `rig ${a.rig.name} was edited between the runs (sha256 ${a.rig.sha256.slice(0, 12)} vs ${b.rig.sha256.slice(0, 12)}): check that params and sampling still match`,
    );
  }
  return [...warnings, ...runWarnings(labels.a, a), ...runWarnings(labels.b, b)];
}

/** A run that did not complete may hold fewer cells and samples than planned. */
export function runWarnings(label: string, artifact: Artifact): string[] {
  if (artifact.run.status === 'complete') return [];
  const error = artifact.run.error ? ` (${artifact.run.error})` : '';
  return [`${label}: the run is ${artifact.run.status}${error}; some cells may hold fewer samples than planned`];
}
