/**
 * Reading a policy from YAML. Every problem — shape, CEL syntax, CEL types —
 * is reported with its place in the file; a CEL error points at the exact
 * character when the expression appears verbatim in the file (plain or quoted
 * without escapes), else at the start of the `when` value.
 *
 * ```yaml
 * default: allow
 * rules:
 *   - id: no-posts-to-example
 *     when: event == "http.request" && request.host.endsWith(".example.com") && request.method == "POST"
 *     decision: block
 * ```
 */
import { isScalar, LineCounter } from 'yaml';
import { readBounded, sizeText } from '../../base/bounded-read.ts';
import { describeFound } from '../../base/errors.ts';
import { boundedData, parseBoundedDocument, type YamlRefusal } from '../../base/yaml-bounded.ts';
import { locate, type FieldPath, type RigText } from '../../base/positions.ts';
import { compilePolicy } from './compile.ts';
import { decisions, PolicyError, type Policy, type PolicyProblem, type Rule } from './rule.ts';

const ruleKeys = ['id', 'when', 'decision'];

/** A policy file's size limit, as a rig file's (runner/rig/load.ts): the yaml library takes seconds over a megabyte. */
export const MAX_POLICY_BYTES = 256_000;

function refusedFile(file: string, line: number | null, column: number | null, message: string): PolicyError {
  return new PolicyError([{ ruleId: null, path: [], line: null, column: null, message, file, fileLine: line, fileColumn: column }]);
}

const refused = (file: string, refusal: YamlRefusal) => refusedFile(file, refusal.line, refusal.column, `expected ${refusal.expected}, found ${refusal.found}`);

function shapeProblems(data: unknown): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  const add = (path: FieldPath, message: string, ruleId: string | null = null) => problems.push({ ruleId, path, line: null, column: null, message });
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    add([], `expected a mapping with default and rules, found ${describeFound(data)}`);
    return problems;
  }
  const top = data as Record<string, unknown>;
  for (const key of Object.keys(top)) if (key !== 'default' && key !== 'rules') add([key], 'unknown field; expected default or rules');
  if (!decisions.includes(top.default as never)) add(['default'], `expected one of ${decisions.join(', ')}, found ${describeFound(top.default)}`);
  if (!Array.isArray(top.rules)) {
    add(['rules'], `expected a list of rules, found ${describeFound(top.rules)}`);
    return problems;
  }
  for (const [index, rule] of top.rules.entries()) {
    if (rule === null || typeof rule !== 'object' || Array.isArray(rule)) {
      add(['rules', index], `expected a mapping with id, when and decision, found ${describeFound(rule)}`);
      continue;
    }
    const fields = rule as Record<string, unknown>;
    const id = typeof fields.id === 'string' ? fields.id : null;
    for (const key of Object.keys(fields)) if (!ruleKeys.includes(key)) add(['rules', index, key], `unknown field; expected ${ruleKeys.join(', ')}`, id);
    if (typeof fields.id !== 'string' || fields.id === '') add(['rules', index, 'id'], `expected a non-empty string, found ${describeFound(fields.id)}`);
    if (typeof fields.when !== 'string') add(['rules', index, 'when'], `expected a CEL expression (a string), found ${describeFound(fields.when)}`, id);
    if (!decisions.includes(fields.decision as never)) add(['rules', index, 'decision'], `expected one of ${decisions.join(', ')}, found ${describeFound(fields.decision)}`, id);
  }
  return problems;
}

/** The file position of a problem: the exact character of a CEL error when the expression is there verbatim. */
function placeInFile(problem: PolicyProblem, text: RigText, source: string, file: string): PolicyProblem {
  const at = locate(text, problem.path);
  const placed = { ...problem, file, fileLine: at.line, fileColumn: at.column };
  if (problem.column === null || problem.line === null) return placed;
  const node = text.doc.getIn(problem.path, true);
  const expression = isScalar(node) ? node.value : undefined;
  if (!isScalar(node) || typeof expression !== 'string' || !node.range) return placed;
  const start = source.slice(node.range[0], node.range[1]).indexOf(expression);
  if (start === -1) return placed;
  const lines = expression.split('\n');
  const offset = lines.slice(0, problem.line - 1).reduce((sum, line) => sum + line.length + 1, 0) + problem.column - 1;
  const { line, col } = text.lineCounter.linePos(node.range[0] + start + offset);
  return { ...placed, fileLine: line, fileColumn: col };
}

/** Parse and check a policy; throws a PolicyError listing every problem with its place. */
export function parsePolicy(source: string, file: string): Policy {
  const bytes = Buffer.byteLength(source, 'utf8');
  if (bytes > MAX_POLICY_BYTES) throw refusedFile(file, null, null, `expected a policy of at most ${sizeText(MAX_POLICY_BYTES)}, found ${sizeText(bytes)} (${bytes} bytes)`);
  const lineCounter = new LineCounter();
  const parsed = parseBoundedDocument(source, lineCounter);
  if (parsed.refusal) throw refused(file, parsed.refusal);
  const { doc } = parsed;
  const text: RigText = { doc, lineCounter };
  if (doc.errors.length > 0) {
    throw new PolicyError(
      doc.errors.map((error) => ({
        ruleId: null,
        path: [],
        line: null,
        column: null,
        message: `invalid YAML: ${error.message.split('\n')[0]}`,
        file,
        fileLine: error.linePos?.[0]?.line ?? null,
        fileColumn: error.linePos?.[0]?.col ?? null,
      })),
    );
  }
  const bounded = boundedData(doc, lineCounter);
  if (bounded.refusal) throw refused(file, bounded.refusal);
  const data = bounded.data;
  const shape = shapeProblems(data);
  if (shape.length > 0) throw new PolicyError(shape.map((p) => placeInFile(p, text, source, file)));
  const policy = data as Policy;
  const rules: Rule[] = policy.rules.map(({ id, when, decision }) => ({ id, when, decision }));
  try {
    compilePolicy(rules);
  } catch (error) {
    if (error instanceof PolicyError) throw new PolicyError(error.problems.map((p) => placeInFile(p, text, source, file)));
    throw error;
  }
  return { default: policy.default, rules };
}

export function loadPolicy(path: string): Policy {
  const read = readBounded(path, MAX_POLICY_BYTES, 'policy file');
  if (!read.ok) throw refusedFile(path, null, null, `expected ${read.expected}, found ${read.found}`);
  return parsePolicy(read.bytes.toString('utf8'), path);
}
