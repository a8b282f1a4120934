/** `rigor fleet merge <dir>`: plan, apply, one fleet record per rig; what the CLI prints is in the returned lines. */
import { randomUUID } from 'node:crypto';
import { applyMerge, collectArtifacts, existingIn, planMerge, type Placed } from './merge.ts';
import { mergeRecord } from './merge-record.ts';
import { writeFleetRecord } from './record-file.ts';
import { join } from 'node:path';

export interface MergeReport {
  placed: Placed[];
  records: string[];
}

export function mergeDirectory(dir: string, resultsDir: string, commandLine: string[]): MergeReport {
  const startedAt = new Date().toISOString();
  const found = collectArtifacts(dir);
  const placed = applyMerge(planMerge(found, existingIn(resultsDir)), resultsDir);
  const byRig = new Map<string, Placed[]>();
  for (const p of placed) byRig.set(p.step.rig, [...(byRig.get(p.step.rig) ?? []), p]);
  const id = randomUUID();
  const finishedAt = new Date().toISOString();
  // a merge that added nothing (run twice) records nothing new
  const records = [...byRig.values()]
    .filter((ofRig) => ofRig.some((p) => p.step.action === 'add'))
    .map((ofRig) => writeFleetRecord(mergeRecord(ofRig, { id, commandLine, startedAt, finishedAt }), resultsDir));
  return { placed, records };
}

/** One line per artifact: where it went, or that it was there already. */
export function mergeLines(report: MergeReport, resultsDir: string): string[] {
  return [
    ...report.placed.map((p) =>
      p.step.action === 'add'
        ? `merged   ${p.step.source.file} -> ${join(resultsDir, p.path)}`
        : `present  ${p.step.source.file} = ${join(resultsDir, p.path)} (not written again)`,
    ),
    ...report.records.map((path) => `fleet record: ${path}`),
  ];
}
