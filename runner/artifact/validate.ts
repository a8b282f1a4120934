/** Artifact validation with ajv, and schema errors written for people. */
import { describeFound, InputError } from '../../base/errors.ts';
import { validatorFor, type ErrorObject } from '../schema/ajv.ts';
import { consistencyProblems } from './consistency.ts';
import { digestProblem } from './digest.ts';
import { recomputeDisagreements, type RecomputeOptions } from './recompute.ts';
import type { Artifact } from './schema.ts';

/** Read a JSON pointer (/cells/0/status) out of a document. */
function atPointer(document: unknown, pointer: string): unknown {
  if (pointer === '') return document;
  let node: unknown = document;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/**
 * The errors worth showing: a union's "expected null" or "anyOf" is noise when
 * a deeper error explains the branch that was meant, and a format error says
 * more than the long regex zod also emits for the same field.
 */
function usefulErrors(errors: ErrorObject[]): ErrorObject[] {
  const deeper = (path: string) => errors.some((e) => e.instancePath.startsWith(`${path}/`));
  const hasFormat = (path: string) => errors.some((e) => e.keyword === 'format' && e.instancePath === path);
  return errors.filter((error) => {
    // An if/then/else failed in its branch, which has its own error (a timed metric's clock pattern).
    if (error.keyword === 'if') return false;
    if (['anyOf', 'oneOf', 'type'].includes(error.keyword) && deeper(error.instancePath)) return false;
    if (error.keyword === 'anyOf' || error.keyword === 'oneOf') return !errors.some((e) => e !== error && e.instancePath === error.instancePath);
    if (error.keyword === 'pattern' && hasFormat(error.instancePath)) return false;
    return true;
  });
}

function expectation(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'enum':
      return `one of ${(params.allowedValues as unknown[]).join(', ')}`;
    case 'const':
      return JSON.stringify(params.allowedValue);
    case 'minItems':
      return `at least ${params.limit} items`;
    case 'maxItems':
      return `at most ${params.limit} items`;
    case 'format':
      return `a ${params.format} string`;
    default:
      return (error.message ?? error.keyword).replace(/^must (be |have |match )?/, '');
  }
}

/** ajv errors to lines "at /cells/0/status: expected one of ok, skipped, failed; found \"done\"". */
export function formatSchemaErrors(errors: ErrorObject[], document: unknown, limit = 10): string {
  errors = usefulErrors(errors);
  const lines = errors.slice(0, limit).map((error) => {
    const where = error.instancePath || '(top level)';
    if (error.keyword === 'required') {
      return `  at ${where}: missing field "${(error.params as { missingProperty: string }).missingProperty}"`;
    }
    if (error.keyword === 'additionalProperties') {
      return `  at ${where}: unknown field "${(error.params as { additionalProperty: string }).additionalProperty}"`;
    }
    const found = atPointer(document, error.instancePath);
    // JSON.parse reads a number beyond ±1.8e308 (1e309) as Infinity, which JSON cannot write back (it would say "null").
    if (typeof found === 'number' && !Number.isFinite(found)) return `  at ${where}: expected a finite number; found a number out of range (${found})`;
    return `  at ${where}: expected ${expectation(error)}; found ${describeFound(found)}`;
  });
  if (errors.length > limit) lines.push(`  ... and ${errors.length - limit} more`);
  return lines.join('\n');
}

/**
 * What the schema cannot say, as lines formatSchemaErrors writes: a batched
 * metric has one call count per sample; cells are consistent with the rig
 * (consistency.ts); every stored summary, slope, ratio and gate result agrees
 * with the one recomputed from the samples (recompute.ts); a stored content
 * digest matches (digest.ts). Readers call this after the schema check, so
 * nothing validation rejects is shown; empty when there is nothing to say.
 * The seeded bootstrap intervals (2,000 draws per sample) are recomputed by
 * rigor validate and when writing, not by default: a reader checks the rest.
 */
export function batchProblems(artifact: Artifact, options: RecomputeOptions = { intervals: false }): string {
  const batches = batchCountProblems(artifact);
  // Recomputing needs every batch paired with its sample.
  if (batches.length > 0) return batches.join('\n');
  return [...consistencyProblems(artifact), ...recomputeProblems(artifact, options), ...[digestProblem(artifact) ?? []].flat()].join('\n');
}

/** Lines "at <pointer>: stored <x>; recomputed from the samples <y>", one per disagreement (recompute.ts), at most `limit` and a count of the rest. */
export function recomputeProblems(artifact: Artifact, options: RecomputeOptions = {}, limit = 10): string[] {
  const found = recomputeDisagreements(artifact, options);
  const show = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));
  const lines = found.slice(0, limit).map((d) => `  at ${d.pointer}: stored ${show(d.stored)}; recomputed from the samples ${show(d.recomputed)}`);
  if (found.length > limit) lines.push(`  ... and ${found.length - limit} more stored values that disagree with the samples`);
  return lines;
}

/** A batched metric has one call count per sample. */
function batchCountProblems(artifact: Artifact): string[] {
  return artifact.cells.flatMap((cell, i) =>
    Object.entries(cell.metrics).flatMap(([name, metric]) => {
      const counts = metric.batch_iterations;
      if (!counts || counts.length === metric.samples.length) return [];
      const at = `/cells/${i}/metrics/${name.replaceAll('~', '~0').replaceAll('/', '~1')}/batch_iterations`;
      return [`  at ${at}: expected ${metric.samples.length} call counts (one per sample); found ${counts.length}`];
    }),
  );
}

/**
 * An artifact a run made that validation refuses (a workload's samples that
 * break the rig's own definition, say a negative duration): a message, not a
 * stack trace, and the caller writes nothing where it was going.
 */
export class InvalidArtifactError extends InputError {
  override name = 'InvalidArtifactError';
}

/** Throws with every problem listed when the artifact is not valid; the caller writes nothing. */
export function assertValidArtifact(data: unknown, label: string): void {
  const validate = validatorFor('artifact');
  if (!validate(data)) {
    throw new InvalidArtifactError(`${label}: artifact is invalid and was not written:\n${formatSchemaErrors(validate.errors ?? [], data)}`);
  }
  const batches = batchProblems(data as Artifact, { intervals: true });
  if (batches) throw new InvalidArtifactError(`${label}: artifact is invalid and was not written:\n${batches}`);
}
