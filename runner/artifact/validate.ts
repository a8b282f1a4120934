/** Artifact validation with ajv, and schema errors written for people. */
import { describeFound } from '../errors.ts';
import { validatorFor, type ErrorObject } from '../schema/ajv.ts';

/** Read a JSON pointer (/cells/0/status) out of a document. */
export function atPointer(document: unknown, pointer: string): unknown {
  if (pointer === '') return document;
  let node: unknown = document;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** ajv errors to lines "at /cells/0/status: expected one of ok, skipped, failed; found \"done\"". */
export function formatSchemaErrors(errors: ErrorObject[], document: unknown, limit = 10): string {
  const lines = errors.slice(0, limit).map((error) => {
    const where = error.instancePath || '(top level)';
    if (error.keyword === 'required') {
      return `  at ${where}: missing field "${(error.params as { missingProperty: string }).missingProperty}"`;
    }
    if (error.keyword === 'additionalProperties') {
      return `  at ${where}: unknown field "${(error.params as { additionalProperty: string }).additionalProperty}"`;
    }
    const expected =
      error.keyword === 'enum'
        ? `one of ${(error.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`
        : error.message ?? error.keyword;
    return `  at ${where}: expected ${expected.replace(/^must (be |have |match )?/, '')}; found ${describeFound(atPointer(document, error.instancePath))}`;
  });
  if (errors.length > limit) lines.push(`  ... and ${errors.length - limit} more`);
  return lines.join('\n');
}

/** Throws with every problem listed when the artifact is not valid; the caller writes nothing. */
export function assertValidArtifact(data: unknown, label: string): void {
  const validate = validatorFor('artifact');
  if (!validate(data)) {
    throw new Error(`${label}: artifact is invalid and was not written:\n${formatSchemaErrors(validate.errors ?? [], data)}`);
  }
}
