/**
 * No green check for nothing checked. What a gate could not check — a gate
 * that judged no cell, a skipped or missing cell a gate names, an incomplete
 * candidate or baseline run, a missed ratio goal — fails in strict mode (CI,
 * or --strict) and is a loud warning otherwise. Pure: the verbs print the
 * findings and add the exit code.
 */
import type { Artifact, GateResult } from '../artifact/schema.ts';
import type { Gate } from '../rig/schema.ts';
import { describeCheck } from './describe.ts';
import { isRelative, NO_MATCHING_CELL } from './evaluate.ts';
import { describeGoal, type RatioGoal } from './ratio-goals.ts';

export interface StrictMode {
  strict: boolean;
  /** What decided it, for the reader: "--strict", "--no-strict", "CI=true", "CI unset". */
  source: string;
}

/** --strict / --no-strict win; otherwise CI set to anything but "", "false" or "0" (as CI services set it) means strict. */
export function strictMode(flag: boolean | undefined, env: Record<string, string | undefined>): StrictMode {
  if (flag === true) return { strict: true, source: '--strict' };
  if (flag === false) return { strict: false, source: '--no-strict' };
  const ci = env.CI;
  if (ci === undefined || ci === '') return { strict: false, source: 'CI unset' };
  return ['false', '0'].includes(ci.toLowerCase()) ? { strict: false, source: `CI=${ci}` } : { strict: true, source: `CI=${ci}` };
}

export type UncheckedKind = 'nothing-checked' | 'unchecked-cell' | 'incomplete' | 'goal-missed';

export interface Unchecked {
  kind: UncheckedKind;
  reason: string;
}

export interface UncheckedInput {
  /**
   * 'run' judges what a run alone can: absolute gates and ratio goals (relative
   * gates wait for `rigor gate --baseline`); 'gate' judges every gate.
   */
  verb: 'run' | 'gate';
  /** The rig's gates, by index as GateResult.gate counts them. */
  gates: readonly Gate[];
  results: readonly GateResult[];
  goals: readonly RatioGoal[];
  candidate: Pick<Artifact, 'cells' | 'run'>;
  baseline?: Pick<Artifact, 'run'>;
}

/** Everything the gates did not check, each with its reason; empty when every gate judged what it names. */
export function findUnchecked(input: UncheckedInput): Unchecked[] {
  const { verb, candidate, baseline } = input;
  const found: Unchecked[] = [];
  const incomplete = (who: string, run: Pick<Artifact, 'run'>['run']) => {
    if (run.status === 'complete') return;
    const what = run.status === 'interrupted' ? 'was interrupted' : 'failed';
    found.push({ kind: 'incomplete', reason: `${who} ${what}: its cells are incomplete${run.error ? ` (${run.error})` : ''}` });
  };
  incomplete(verb === 'run' ? 'this run' : 'the candidate run', candidate.run);
  if (baseline) incomplete('the baseline run', baseline.run);

  // One reason says it all: every gate and goal would repeat it.
  if (!candidate.cells.some((cell) => cell.status === 'ok')) {
    const what = candidate.cells.length === 0 ? 'no cell' : `every cell (${candidate.cells.length}) was skipped or failed:`;
    found.push({ kind: 'nothing-checked', reason: `${what} ${verb === 'run' ? 'this run' : 'the candidate'} measured nothing` });
    return found;
  }

  const judged = input.gates.map((_, index) => index).filter((index) => verb === 'gate' || !isRelative(input.gates[index]!));
  if (verb === 'gate' && judged.length === 0 && input.goals.length === 0) {
    found.push({ kind: 'nothing-checked', reason: 'the rig defines no gates and no ratio goals: nothing to check' });
  }
  for (const index of judged) found.push(...uncheckedOfGate(input.gates[index]!, input.results.filter((r) => r.gate === index), candidate.cells));

  for (const goal of input.goals) {
    if (goal.verdict === 'missed') found.push({ kind: 'goal-missed', reason: `ratio goal ${describeGoal(goal)} missed: ${goal.detail}` });
    if (goal.verdict === 'not computed') found.push({ kind: 'unchecked-cell', reason: `ratio goal ${describeGoal(goal)} not checked: ${goal.detail}` });
  }
  return found;
}

function uncheckedOfGate(gate: Gate, results: readonly GateResult[], cells: Artifact['cells']): Unchecked[] {
  if (results.length === 0) return [];
  const label = `gate #${results[0]!.gate} (${describeCheck(results[0]!)})`;
  const checked = results.filter((r) => r.verdict === 'pass' || r.verdict === 'fail');
  if (checked.length === 0) {
    return [{ kind: 'nothing-checked', reason: `${label} checked nothing: ${whyNothing(results)}` }];
  }
  // A gate without `where` applies to the cells that measured its metric here (a backend this
  // host lacks is skipped); one with `where` names its cells, and each must be judged.
  const names = Object.keys(gate.where ?? {}).length > 0;
  const owed = (r: GateResult) => {
    const cell = cells.find((c) => c.id === r.cell);
    return cell?.status === 'failed' || (cell?.status === 'ok' && (cell.metrics[r.metric]?.samples.length ?? 0) > 0);
  };
  return results
    .filter((r) => r.verdict !== 'pass' && r.verdict !== 'fail')
    .filter((r) => names || owed(r))
    .map((r) => ({ kind: 'unchecked-cell' as const, reason: `${label} did not check ${r.cell}: ${r.detail}` }));
}

function whyNothing(results: readonly GateResult[]): string {
  if (results.some((r) => r.verdict === 'needs-baseline')) return 'it compares with a baseline and none was given (--baseline)';
  const [first] = results;
  if (results.length === 1) return first!.cell === NO_MATCHING_CELL ? first!.detail : `${first!.cell}: ${first!.detail}`;
  const more = results.length === 2 ? 'and 1 more cell' : `and ${results.length - 1} more cells`;
  return `none of its ${results.length} cells was judged — ${first!.cell}: ${first!.detail} (${more})`;
}

/** 1 in strict mode when anything went unchecked; otherwise the findings are warnings. */
export function strictExitCode(unchecked: readonly Unchecked[], mode: StrictMode): 0 | 1 {
  return mode.strict && unchecked.length > 0 ? 1 : 0;
}
