/** One ajv instance for the committed JSON Schemas (draft 2020-12, formats on). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;
const schemaDir = fileURLToPath(new URL('../../schemas/', import.meta.url));

const ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true });
addFormats(ajv);

const compiled = new Map<string, ValidateFunction>();

/** The validator for schemas/<name>.schema.json, compiled once. */
export function validatorFor(name: 'rig' | 'artifact' | 'guest-bench'): ValidateFunction {
  let validate = compiled.get(name);
  if (!validate) {
    const schema = JSON.parse(readFileSync(`${schemaDir}${name}.schema.json`, 'utf8'));
    validate = ajv.compile(schema);
    compiled.set(name, validate);
  }
  return validate;
}

export type { ErrorObject };
