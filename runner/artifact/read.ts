/** Read an artifact file and check it against schemas/artifact.schema.json. */
import { readFileSync } from 'node:fs';
import { InputError } from '../../base/errors.ts';
import { validatorFor } from '../schema/ajv.ts';
import type { Artifact } from './schema.ts';
import { batchProblems, formatSchemaErrors } from './validate.ts';

export function readArtifact(path: string): Artifact {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InputError(`${path}: cannot read artifact: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
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
