/** Every artifact of one rig, read and validated by the checked results reader: results/<rig>/*.json, oldest run first; what does not read is reported, not fatal. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readRigResults, type RigResults } from '../artifact/read.ts';
import { InputError } from '../../base/errors.ts';

export function readRigArtifacts(rig: string, resultsDir: string = 'results'): RigResults {
  const dir = join(resultsDir, rig);
  if (!existsSync(dir)) {
    throw new InputError(`${rig}: expected a directory of artifacts at ${dir}/, found none (rigor run ${rig} writes one)`);
  }
  return readRigResults(dir, rig);
}
