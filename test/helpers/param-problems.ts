/** A workload's problems with a cell's params, as a run reports them: its schema's, then its cross-field checks. */
import type { Workload } from '../../runner/contract/workload.ts';
import { formatParamProblem, paramProblems } from '../../runner/rig/param-problems.ts';

export function paramProblemsOf(workload: Workload, params: Record<string, unknown>): string[] {
  return paramProblems(workload, params, { workload: workload.name }).map(formatParamProblem);
}
