/** What makes two artifacts less comparable than they look, said before any number. */
import type { Artifact } from '../artifact/schema.ts';
import { describeDifferences, diffFingerprints, listWords, recordedFingerprint, type FingerprintDifference } from '../host/fingerprint.ts';

type Hosted = Pick<Artifact, 'host'>;

/** Two artifacts' hosts: by id, and by fingerprint as far as both record one. */
export interface HostComparison {
  idsDiffer: boolean;
  /** Fields both record that differ: the fingerprint's, or for an older artifact what its host block holds. */
  differences: FingerprintDifference[];
  /** Labels of the fields both record and agree on. */
  same: string[];
  /** Labels of the fields one side does not record. */
  unknown: string[];
  /** Sides written before rigor recorded fingerprints (older artifacts). */
  withoutFingerprint: ('a' | 'b')[];
}

export function compareHosts(a: Hosted, b: Hosted): HostComparison {
  const fa = recordedFingerprint(a.host);
  const fb = recordedFingerprint(b.host);
  const diff = diffFingerprints(fa.fields, fb.fields);
  const differences = [...diff.differences];
  // fields alike but digests not: the digest covers something this rigor does not know how to show
  if (differences.length === 0 && fa.id && fb.id && fa.id !== fb.id) differences.push({ field: 'id', label: 'fingerprint id', a: fa.id, b: fb.id });
  return {
    idsDiffer: a.host.id !== b.host.id,
    differences,
    same: diff.same,
    unknown: diff.unknown,
    withoutFingerprint: [...(fa.id === null ? ['a' as const] : []), ...(fb.id === null ? ['b' as const] : [])],
  };
}

/** True when the artifacts were measured on different machines, as far as they tell: host id, or a fingerprint field both record. */
export function hostsDiffer(a: Hosted, b: Hosted): boolean {
  const hosts = compareHosts(a, b);
  return hosts.idsDiffer || hosts.differences.length > 0;
}

/** For a gate's detail: "laptop vs ci-runner", or "same host id vm-1, different kernel build, microcode". */
export function hostDifferenceSummary(a: Hosted, b: Hosted): string | null {
  const hosts = compareHosts(a, b);
  if (hosts.idsDiffer) return `${a.host.id} vs ${b.host.id}`;
  if (hosts.differences.length === 0) return null;
  return `same host id ${a.host.id}, different ${hosts.differences.map((d) => d.label).join(', ')}`;
}

function withoutClause(hosts: HostComparison, labels: { a: string; b: string }): string {
  const sides = hosts.withoutFingerprint.map((side) => labels[side]);
  const who = sides.length === 1 ? `${sides[0]} is an older artifact` : `${listWords(sides)} are older artifacts`;
  return `${who} without a host fingerprint (${sides.length === 1 ? 'its' : 'their'} ${listWords(hosts.unknown)} ${hosts.unknown.length === 1 ? 'is' : 'are'} unknown)`;
}

const ADVICE = 'differences may be the machine, not the code; compare runs from one host to judge a change';

/**
 * The host warning, naming the fields that differ; null when both name one
 * host and agree on a whole fingerprint. A side without a fingerprint is
 * never taken to agree: the host id alone is cloned with VM images.
 */
export function hostWarning(a: Artifact, b: Artifact, labels: { a: string; b: string }): string | null {
  const hosts = compareHosts(a, b);
  const missing = hosts.withoutFingerprint.length > 0 ? `; ${withoutClause(hosts, labels)}` : '';
  const differ = describeDifferences(hosts.differences);
  if (hosts.idsDiffer) {
    const alike = hosts.differences.length > 0 ? `, which differ in ${differ}` : missing ? '' : `, alike by fingerprint ${a.host.fingerprint!.id}`;
    return `artifacts come from different hosts (${a.host.id} vs ${b.host.id})${alike}${missing}: ${ADVICE}`;
  }
  if (hosts.differences.length > 0) {
    return `hosts differ in ${differ}, though both artifacts name host ${a.host.id} (hostname and machine-id are cloned with VM images)${missing}: ${ADVICE}`;
  }
  if (missing) {
    return (
      `the host fingerprint cannot be compared: ${withoutClause(hosts, labels)}; both artifacts name host ${a.host.id} and agree on ${listWords(hosts.same)}, ` +
      'but the host id is cloned with VM images: do not take the two for one machine'
    );
  }
  return null;
}

/**
 * Warnings about comparing `b` against `a`: different hosts or fingerprints
 * (loudest: the difference may be the machine, not the code), different or edited rigs,
 * runs that did not complete.
 */
export function pairWarnings(a: Artifact, b: Artifact, labels: { a: string; b: string }): string[] {
  const warnings: string[] = [];
  const host = hostWarning(a, b, labels);
  if (host) warnings.push(host);
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
