/** Problems found in a rig file, each naming file, position, field, what was expected and what was found. */
import { InputError } from '../../base/errors.ts';
import { printable } from '../../base/printable.ts';

export interface RigProblem {
  file: string;
  /** 1-based; null when the problem has no place in the text (e.g. the file is missing). */
  line: number | null;
  column: number | null;
  /** Dotted path inside the rig, e.g. `gates[1].metric`; `(yaml)` for syntax, `(file)` for the file itself. */
  field: string;
  expected: string;
  found: string;
}

/** `rigs/x.rig.yaml:12:5: sampling.iterations: expected an integer >= 1, found 0`; a control character of the file as an escape. */
export function formatProblem(p: RigProblem): string {
  const place = p.line === null ? p.file : p.column === null ? `${p.file}:${p.line}` : `${p.file}:${p.line}:${p.column}`;
  return printable(`${place}: ${p.field}: expected ${p.expected}, found ${p.found}`);
}

/** Every problem of one rig file at once, so a user fixes them in one pass. */
export class RigError extends InputError {
  override name = 'RigError';
  constructor(readonly problems: RigProblem[]) {
    super(problems.map(formatProblem).join('\n'));
  }
}
