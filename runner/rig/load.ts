/**
 * Reading a rig file: YAML syntax, then the JSON Schema (with positions and
 * plain wording), then the cross-field checks; every problem is collected before
 * anything is thrown. zod (the source of truth) then fills the defaults.
 */
import { createHash } from 'node:crypto';
import { LineCounter, type YAMLError } from 'yaml';
import { readBounded, sizeText } from '../../base/bounded-read.ts';
import { describeFound } from '../../base/errors.ts';
import { boundedData, parseBoundedDocument, type YamlRefusal } from '../../base/yaml-bounded.ts';
import { validatorFor } from '../schema/ajv.ts';
import { RigError, type RigProblem } from './errors.ts';
import { formatField, locate, type RigText } from '../../base/positions.ts';
import { schemaProblems } from './schema-problems.ts';
import { RigFile, type Rig } from './schema.ts';
import { semanticProblems, type SemanticContext } from './semantic.ts';

/** A rig file's size limit: the largest committed rig is 17 kB; the yaml library takes seconds over a megabyte. */
export const MAX_RIG_BYTES = 256_000;

/** Schema errors worded and placed; past them, a count. */
const MAX_SCHEMA_ERRORS = 100;

export interface LoadedRig {
  rig: Rig;
  path: string;
  source: string;
  /** sha256 (hex) of the file's bytes: the artifact's link to the exact rig that ran. */
  sha256: string;
}

/** What the semantic checks know of workloads (semantic.ts); a check is skipped without what it needs. */
export type LoadOptions = Omit<SemanticContext, 'file' | 'text'>;

function syntaxProblem(file: string, error: YAMLError): RigProblem {
  const message = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  const start = error.linePos?.[0];
  return { file, line: start?.line ?? null, column: start?.col ?? null, field: '(yaml)', expected: 'valid YAML', found: message };
}

function limitProblem(file: string, refusal: YamlRefusal): RigProblem {
  return { file, line: refusal.line, column: refusal.column, field: '(yaml)', expected: refusal.expected, found: refusal.found };
}

function sizeProblem(file: string, bytes: number): RigProblem {
  return { file, line: null, column: null, field: '(file)', expected: `a rig file of at most ${sizeText(MAX_RIG_BYTES)}`, found: `${sizeText(bytes)} (${bytes} bytes)` };
}

/** Sorted by place in the file; problems without a place first. */
function byPosition(a: RigProblem, b: RigProblem): number {
  return (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0);
}

function parse(source: string, path: string, sha256: string, opts: LoadOptions): LoadedRig {
  const lineCounter = new LineCounter();
  const parsedYaml = parseBoundedDocument(source, lineCounter);
  if (parsedYaml.refusal) throw new RigError([limitProblem(path, parsedYaml.refusal)]);
  const { doc } = parsedYaml;
  const syntax = [...doc.errors, ...doc.warnings].map((error) => syntaxProblem(path, error));
  // Past a syntax error the structure is a guess, so its schema problems would mislead.
  if (syntax.length > 0) throw new RigError(syntax);

  const text: RigText = { doc, lineCounter };
  const bounded = boundedData(doc, lineCounter);
  if (bounded.refusal) throw new RigError([limitProblem(path, bounded.refusal)]);
  const data: unknown = bounded.data;
  const parsed = RigFile.safeParse(data);
  // The JSON Schema is generated from zod, so a rig zod accepts it accepts too: only a rejected rig
  // pays for compiling it (~50 ms, at every start) to get its positioned, plainly worded problems.
  const validate = parsed.success ? null : validatorFor('rig');
  const schemaErrors = !validate || validate(data) ? [] : (validate.errors ?? []);
  // Wording and placing a problem walks the document: thousands of them (a mapping of 20,000 unknown keys) took minutes.
  const schema = schemaProblems(schemaErrors.slice(0, MAX_SCHEMA_ERRORS), data, validate?.schema as Record<string, unknown>, text, path);
  // A field the schema already faulted (or faulted inside) needs no second, vaguer problem.
  const faulted = (field: string) => schema.some((p) => p.field === field || p.field.startsWith(`${field}.`) || p.field.startsWith(`${field}[`));
  const semantic = semanticProblems(data, { ...opts, file: path, text }).filter((p) => !faulted(p.field));
  const problems = [...schema, ...semantic].sort(byPosition);
  if (schemaErrors.length > MAX_SCHEMA_ERRORS) {
    problems.push({ file: path, line: null, column: null, field: '(file)', expected: `at most ${MAX_SCHEMA_ERRORS} schema errors listed`, found: `${schemaErrors.length} (the rest not shown)` });
  }

  if (!parsed.success && problems.length === 0) {
    // The JSON Schema is generated from zod; a rig only zod rejects is a rigor bug, still told as a problem.
    for (const issue of parsed.error.issues) {
      const field = issue.path.filter((k): k is string | number => typeof k !== 'symbol');
      const { line, column } = locate(text, field);
      problems.push({
        file: path,
        line,
        column,
        field: formatField(field),
        expected: `${issue.message} (rig schema check; the JSON Schema accepted it, please report this rigor bug)`,
        found: describeFound(field.reduce<unknown>((node, key) => (node as Record<string | number, unknown> | undefined)?.[key], data)),
      });
    }
  }
  if (problems.length > 0 || !parsed.success) throw new RigError(problems);
  return { rig: parsed.data, path, source, sha256 };
}

const sha256Of = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** Load and validate a rig from text (tests, `rigor validate` of unsaved input); `path` names it in problems. */
export function parseRig(source: string, path: string, opts: LoadOptions = {}): LoadedRig {
  const bytes = Buffer.byteLength(source, 'utf8');
  if (bytes > MAX_RIG_BYTES) throw new RigError([sizeProblem(path, bytes)]);
  return parse(source, path, sha256Of(Buffer.from(source, 'utf8')), opts);
}

/** Load and validate rigs/<name>.rig.yaml; throws RigError listing every problem. */
export function loadRig(path: string, opts: LoadOptions = {}): LoadedRig {
  const read = readBounded(path, MAX_RIG_BYTES, 'rig file');
  if (!read.ok) throw new RigError([{ file: path, line: null, column: null, field: '(file)', expected: read.expected, found: read.found }]);
  return parse(read.bytes.toString('utf8'), path, sha256Of(read.bytes), opts);
}
