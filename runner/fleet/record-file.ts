/** Fleet records on disk: validated before they are written, atomically and never over another; read back for --retry-failed. */
import { join } from 'node:path';
import { InputError } from '../../base/errors.ts';
import { readJsonFile } from '../artifact/read.ts';
import { fileStamp, writeNewFile } from '../artifact/write.ts';
import { formatSchemaErrors } from '../artifact/validate.ts';
import { validatorFor } from '../schema/ajv.ts';
import { FLEET_RECORD_DIR, type FleetRecord } from './record.ts';

/** results/<rig>/fleet/ */
export function fleetRecordDir(resultsDir: string, rig: string): string {
  return join(resultsDir, rig, FLEET_RECORD_DIR);
}

/** <UTC stamp>_<commit7>.json, as artifacts are named but without a host: the record names them all. */
export function fleetRecordName(record: FleetRecord): string {
  return `${fileStamp(record.started_at)}_${record.source.commit ? record.source.commit.slice(0, 7) : 'nocommit'}.json`;
}

/** Write the record into results/<rig>/fleet/; returns its path. */
export function writeFleetRecord(record: FleetRecord, resultsDir: string): string {
  const validate = validatorFor('fleet-record');
  const data: unknown = record;
  if (!validate(data)) {
    throw new Error(`fleet record of ${record.rig.name} is invalid and was not written:\n${formatSchemaErrors(validate.errors ?? [], record)}`);
  }
  return writeNewFile(fleetRecordDir(resultsDir, record.rig.name), fleetRecordName(record), `${JSON.stringify(record, null, 1)}\n`);
}

export function readFleetRecord(path: string): FleetRecord {
  // Checked: never a FIFO or a device, and a parse error that does not quote the file.
  const data = readJsonFile(path);
  const validate = validatorFor('fleet-record');
  if (!validate(data)) throw new InputError(`${path}: not a valid fleet record:\n${formatSchemaErrors(validate.errors ?? [], data)}`);
  return data as FleetRecord;
}
