/** One ajv instance for the committed JSON Schemas (draft 2020-12, formats on). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;
const schemaDir = fileURLToPath(new URL('../../schemas/', import.meta.url));

const compiled = new Map<string, ValidateFunction>();
let shared: Ajv2020 | undefined;

/** Made on first use: a command that validates nothing (a valid rig, `rigor --help`) does not pay for it. */
function ajv(): Ajv2020 {
  if (!shared) {
    shared = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true });
    addFormats(shared);
  }
  return shared;
}

/** The validator for schemas/<name>.schema.json, compiled once. */
export function validatorFor(name: 'rig' | 'artifact' | 'guest-bench' | 'fleet-record'): ValidateFunction {
  let validate = compiled.get(name);
  if (!validate) {
    const schema = JSON.parse(readFileSync(`${schemaDir}${name}.schema.json`, 'utf8'));
    validate = ajv().compile(schema);
    compiled.set(name, validate);
  }
  return validate;
}

export type { ErrorObject };
