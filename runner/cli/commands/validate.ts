/**
 * `rigor validate <files...>`: check rig files and artifacts against their
 * schemas; an artifact's stored summaries, ratios and gate results against
 * those recomputed from its samples, and its content digest.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DIGEST_FIELD } from '../../artifact/digest.ts';
import { checkedArtifact, readJsonFile } from '../../artifact/read.ts';
import { readFleetRecord } from '../../fleet/record-file.ts';
import { FLEET_RECORD_SCHEMA_ID } from '../../fleet/record.ts';
import { InputError } from '../../../base/errors.ts';
import { printableLines } from '../../../base/printable.ts';
import { loadRig } from '../../rig/load.ts';
import { isBatchedWorkload, workloadChecks } from '../../workloads/index.ts';
import type { RigorCommand } from '../command.ts';

/** JSON that says it is a fleet record (results/<rig>/fleet/); anything else is read as an artifact. */
function isFleetRecord(data: unknown): boolean {
  return (data as { schema?: unknown } | null)?.schema === FLEET_RECORD_SCHEMA_ID;
}

/** A rig file ends in .yaml/.yml; an artifact (or a fleet record) is .json. */
function validateFile(path: string): { ok: true; summary: string } | { ok: false; error: string } {
  try {
    if (/\.ya?ml$/.test(path)) {
      const { rig } = loadRig(path, { ...workloadChecks, batched: isBatchedWorkload });
      return { ok: true, summary: `rig "${rig.name}", workload ${rig.workload}, ${Object.keys(rig.metrics).length} metric(s)` };
    }
    if (path.endsWith('.json')) {
      // The checked read (a FIFO named *.json is refused at once, not waited on), parsed once: a 10^6-sample artifact takes 0.2 s to parse.
      const data = readJsonFile(path);
      if (isFleetRecord(data)) {
        const record = readFleetRecord(path);
        const ok = record.hosts.filter((host) => host.outcome === 'ok').length;
        return { ok: true, summary: `fleet record of rig "${record.rig.name}" (${record.kind}), ${ok} of ${record.hosts.length} host(s) ok, ${record.status}` };
      }
      // Readers leave out the bootstrap intervals for speed; validate recomputes them too, in the one pass.
      const artifact = checkedArtifact(path, data, { intervals: true });
      const digest = artifact[DIGEST_FIELD] ? `content digest ${artifact[DIGEST_FIELD].slice(0, 12)}… matches` : 'no content digest (written before rigor had them)';
      return { ok: true, summary: `artifact of rig "${artifact.rig.name}", ${artifact.cells.length} cell(s), ${artifact.run.status}; ${digest}` };
    }
    return { ok: false, error: `${path}: expected a rig file (.rig.yaml) or an artifact (.json), found neither ending` };
  } catch (error) {
    // a control character of the file reaches the terminal as an escape
    if (error instanceof InputError) return { ok: false, error: printableLines(error.message) };
    throw error;
  }
}

/** A directory stands for the rig files and .json files under it, in name order; a file stands for itself. */
function expand(path: string): string[] {
  let isDirectory = false;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch {
    return [path];
  }
  if (!isDirectory) return [path];
  return readdirSync(path, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .flatMap((entry) => {
      const inner = join(path, entry.name);
      if (entry.isDirectory()) return expand(inner);
      return entry.isFile() && /\.(json|ya?ml)$/.test(entry.name) ? [inner] : [];
    });
}

export const validateCommand: RigorCommand = {
  command: 'validate <files..>',
  describe: "Check rig files (.rig.yaml) and artifacts (.json) against their schemas, and an artifact's stored summaries, ratios, gate results and content digest against its samples",
  builder: (yargs) =>
    yargs
      .positional('files', { type: 'string', array: true, describe: 'rig files and artifacts, or directories of them' })
      .example('$0 validate rigs results', 'check everything committed: schemas, every stored summary, ratio and gate against the samples, content digests'),
  handler: async (args) => {
    let bad = 0;
    const files = (args.files as string[]).flatMap(expand);
    for (const path of files) {
      const result = validateFile(path);
      if (result.ok) {
        process.stdout.write(`ok       ${path}: ${result.summary}\n`);
      } else {
        bad++;
        process.stdout.write(`INVALID  ${result.error}\n`);
      }
    }
    if (bad) process.stderr.write(`${bad} of ${files.length} file(s) invalid\n`);
    return bad ? 1 : 0;
  },
};
