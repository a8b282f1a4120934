/** Read an artifact file and check it against schemas/artifact.schema.json. */
import { readBounded } from '../../base/bounded-read.ts';
import { InputError } from '../../base/errors.ts';
import { validatorFor } from '../schema/ajv.ts';
import type { Artifact } from './schema.ts';
import { MAX_ARTIFACT_READ_BYTES } from './size.ts';
import { batchProblems, formatSchemaErrors } from './validate.ts';

export function readArtifact(path: string): Artifact {
  const read = readBounded(path, MAX_ARTIFACT_READ_BYTES, 'artifact');
  if (!read.ok) throw new InputError(`${path}: cannot read artifact: expected ${read.expected}, found ${read.found}`);
  const text = read.bytes.toString('utf8');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new InputError(`${path}: not valid JSON: ${(error as Error).message}`);
  }
  const validate = validatorFor('artifact');
  if (!validate(data)) {
    throw new InputError(`${path}: not a valid rigor artifact:\n${formatSchemaErrors(validate.errors ?? [], data)}`);
  }
  const batches = batchProblems(data as Artifact);
  if (batches) throw new InputError(`${path}: not a valid rigor artifact:\n${batches}`);
  return data as Artifact;
}
