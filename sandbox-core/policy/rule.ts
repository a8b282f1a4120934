/** A policy rule as written, and the error a bad one raises. */
import { InputError } from '../../base/errors.ts';
import { formatField, type FieldPath } from '../../base/positions.ts';
import { printable } from '../../base/printable.ts';

export const decisions = ['allow', 'block', 'log'] as const;
/** `log` lets the event through and marks it for the audit trail. */
export type Decision = (typeof decisions)[number];

export interface Rule {
  id: string;
  /** A CEL expression over the event (see events.ts for its variables); must be bool. */
  when: string;
  decision: Decision;
}

export interface Policy {
  /** The decision when no rule matches. */
  default: Decision;
  rules: Rule[];
}

export interface PolicyProblem {
  /** The rule's id, when the problem belongs to one. */
  ruleId: string | null;
  /** `['rules', 2, 'when']`, shown as `rules[2].when`. */
  path: FieldPath;
  /** Where in the expression (1-based), for CEL errors that carry a place. */
  line: number | null;
  column: number | null;
  message: string;
  /** Where in the YAML file, when the rules came from one. */
  file?: string;
  fileLine?: number | null;
  fileColumn?: number | null;
}

export function formatProblem(p: PolicyProblem): string {
  const file = p.file ? `${p.file}:${p.fileLine ?? '?'}:${p.fileColumn ?? '?'}: ` : '';
  const rule = p.ruleId === null ? '' : `rule "${p.ruleId}" `;
  const place = p.column === null ? '' : p.line !== null && p.line > 1 ? `line ${p.line}, column ${p.column}: ` : `column ${p.column}: `;
  return printable(`${file}${rule}${formatField(p.path)}: ${place}${p.message}`);
}

/** Every problem of a rule set at once; the set it came with was not applied. */
export class PolicyError extends InputError {
  override name = 'PolicyError';
  constructor(readonly problems: PolicyProblem[]) {
    super(problems.map(formatProblem).join('\n'));
  }
}
