/** `rigor validate <files...>`: check rig files and artifacts against their schemas. */
import { readBounded } from '../../../base/bounded-read.ts';
import { readArtifact } from '../../artifact/read.ts';
import { MAX_ARTIFACT_READ_BYTES } from '../../artifact/size.ts';
import { readFleetRecord } from '../../fleet/record-file.ts';
import { FLEET_RECORD_SCHEMA_ID } from '../../fleet/record.ts';
import { InputError } from '../../../base/errors.ts';
import { printableLines } from '../../../base/printable.ts';
import { loadRig } from '../../rig/load.ts';
import { isBatchedWorkload, workloadChecks } from '../../workloads/index.ts';
import type { RigorCommand } from '../command.ts';

/** A .json file that says it is a fleet record (results/<rig>/fleet/); anything else is read as an artifact. */
function isFleetRecord(path: string): boolean {
  const read = readBounded(path, MAX_ARTIFACT_READ_BYTES, 'artifact');
  if (!read.ok) return false; // readArtifact says why
  try {
    return (JSON.parse(read.bytes.toString('utf8')) as { schema?: unknown }).schema === FLEET_RECORD_SCHEMA_ID;
  } catch {
    return false;
  }
}

/** A rig file ends in .yaml/.yml; an artifact (or a fleet record) is .json. */
function validateFile(path: string): { ok: true; summary: string } | { ok: false; error: string } {
  try {
    if (/\.ya?ml$/.test(path)) {
      const { rig } = loadRig(path, { ...workloadChecks, batched: isBatchedWorkload });
      return { ok: true, summary: `rig "${rig.name}", workload ${rig.workload}, ${Object.keys(rig.metrics).length} metric(s)` };
    }
    if (path.endsWith('.json') && isFleetRecord(path)) {
      const record = readFleetRecord(path);
      const ok = record.hosts.filter((host) => host.outcome === 'ok').length;
      return { ok: true, summary: `fleet record of rig "${record.rig.name}" (${record.kind}), ${ok} of ${record.hosts.length} host(s) ok, ${record.status}` };
    }
    if (path.endsWith('.json')) {
      const artifact = readArtifact(path);
      return { ok: true, summary: `artifact of rig "${artifact.rig.name}", ${artifact.cells.length} cell(s), ${artifact.run.status}` };
    }
    return { ok: false, error: `${path}: expected a rig file (.rig.yaml) or an artifact (.json), found neither ending` };
  } catch (error) {
    // a control character of the file reaches the terminal as an escape
    if (error instanceof InputError) return { ok: false, error: printableLines(error.message) };
    throw error;
  }
}

export const validateCommand: RigorCommand = {
  command: 'validate <files..>',
  describe: 'Check rig files (.rig.yaml) and artifacts (.json) against their schemas',
  builder: (yargs) =>
    yargs
      .positional('files', { type: 'string', array: true, describe: 'rig files and artifacts' })
      .example('$0 validate rigs/*.rig.yaml results/*/*.json', 'check everything committed'),
  handler: async (args) => {
    let bad = 0;
    for (const path of args.files as string[]) {
      const result = validateFile(path);
      if (result.ok) {
        process.stdout.write(`ok       ${path}: ${result.summary}\n`);
      } else {
        bad++;
        process.stdout.write(`INVALID  ${result.error}\n`);
      }
    }
    if (bad) process.stderr.write(`${bad} of ${(args.files as string[]).length} file(s) invalid\n`);
    return bad ? 1 : 0;
  },
};
