/**
 * The hosts of a rig's history and the fingerprints each ran with, and the
 * warnings that say which fields set one host or fingerprint apart from
 * another — the reason a history has more than one series per cell. Pure.
 */
import type { Artifact } from '../artifact/schema.ts';
import {
  describeDifferences,
  diffFingerprints,
  listWords,
  recordedFingerprint,
  type FingerprintDifference,
  type FingerprintFields,
} from '../host/fingerprint.ts';

export interface HistoryFingerprint {
  /** null: artifacts written before rigor recorded fingerprints. */
  id: string | null;
  /** What the artifacts record: the whole fingerprint, or what an older host block holds of it. */
  fields: Partial<FingerprintFields>;
  artifacts: number;
  first_started_at: string;
  /** Against the host's fingerprint before this one (empty for the first). */
  differences: FingerprintDifference[];
  /** Fields that cannot be compared with the one before: a side does not record them. */
  unknown: string[];
}

export interface HistoryHost {
  id: string;
  /** In the order they first appear (by run start). */
  fingerprints: HistoryFingerprint[];
}

/** "fingerprint 1a2b3c4d5e6f", or "no fingerprint (older artifacts)". */
export function fingerprintLabel(id: string | null): string {
  return id === null ? 'no fingerprint (older artifacts)' : `fingerprint ${id}`;
}

/** Hosts in the order they first appear, each with its fingerprints, each with what changed from the one before. */
export function historyHosts(artifacts: readonly { artifact: Artifact }[]): HistoryHost[] {
  const byTime = [...artifacts].sort((a, b) => Date.parse(a.artifact.run.started_at) - Date.parse(b.artifact.run.started_at));
  const hosts = new Map<string, Map<string | null, HistoryFingerprint>>();
  for (const { artifact } of byTime) {
    const recorded = recordedFingerprint(artifact.host);
    let fingerprints = hosts.get(artifact.host.id);
    if (!fingerprints) hosts.set(artifact.host.id, (fingerprints = new Map()));
    const seen = fingerprints.get(recorded.id);
    if (seen) {
      seen.artifacts += 1;
      continue;
    }
    const previous = [...fingerprints.values()].at(-1);
    const diff = previous ? diffFingerprints(previous.fields, recorded.fields) : { differences: [], unknown: [] };
    fingerprints.set(recorded.id, {
      id: recorded.id,
      fields: recorded.fields,
      artifacts: 1,
      first_started_at: artifact.run.started_at,
      differences: diff.differences,
      unknown: diff.unknown,
    });
  }
  return [...hosts].map(([id, fingerprints]) => ({ id, fingerprints: [...fingerprints.values()] }));
}

/** "differ in kernel build (…)", "cannot be compared in CPU flags, … and agree on the rest", "are alike by fingerprint …". */
function contrast(a: { id: string | null }, b: { id: string | null }, differences: FingerprintDifference[], unknown: string[]): string {
  const differ = `differ in ${describeDifferences(differences)}`;
  if (a.id === null || b.id === null) {
    const uncomparable = `cannot be compared in ${listWords(unknown)} (older artifacts record no fingerprint)`;
    return `${uncomparable} and ${differences.length > 0 ? differ : 'agree on the rest'}`;
  }
  if (differences.length > 0) return differ;
  return a.id === b.id ? `are alike by fingerprint ${a.id}` : `have fingerprints ${a.id} and ${b.id}`;
}

/**
 * One warning per host that ran with several fingerprints (naming what
 * changed from one to the next), and one per further host (naming what sets
 * its newest fingerprint apart from the first host's newest).
 */
export function historyHostWarnings(hosts: readonly HistoryHost[]): string[] {
  const warnings: string[] = [];
  for (const host of hosts) {
    if (host.fingerprints.length < 2) continue;
    const steps = host.fingerprints.slice(1).map((fingerprint, i) => {
      const previous = host.fingerprints[i]!;
      const from = fingerprint.first_started_at.slice(0, 10);
      return `${previous.id ?? 'none'} → ${fingerprint.id ?? 'none'} (from ${from}) ${contrast(previous, fingerprint, fingerprint.differences, fingerprint.unknown)}`;
    });
    warnings.push(
      `host ${host.id} ran with ${host.fingerprints.length} fingerprints, each its own series (hostname and machine-id are cloned with VM images): ${steps.join('; ')}`,
    );
  }
  const [first, ...others] = hosts;
  for (const host of others) {
    const a = first!.fingerprints.at(-1)!;
    const b = host.fingerprints.at(-1)!;
    const diff = diffFingerprints(a.fields, b.fields);
    const text = contrast(a, b, diff.differences, diff.unknown);
    warnings.push(`hosts ${first!.id} and ${host.id} are separate series (numbers from two machines are never one line); their newest runs ${text}`);
  }
  return warnings;
}
