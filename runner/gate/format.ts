/** Gate results as a terminal table: warnings first, then the ratio goals, what went unchecked, and a one-line verdict. */
import type { GateResult } from '../artifact/schema.ts';
import { renderTable } from '../report/table.ts';
import { renderWarnings } from '../report/warning-box.ts';
import { describeCheck, tallyResults } from './describe.ts';
import type { GateMarkdownContext } from './markdown.ts';
import { describeGoal, tallyGoals } from './ratio-goals.ts';
import { uncheckedBlock, uncheckedTally } from './strict-report.ts';

export function formatGateResults(results: GateResult[], ctx: GateMarkdownContext, opts: { maxWidth?: number } = {}): string {
  const goals = ctx.goals ?? [];
  const unchecked = ctx.mode ? (ctx.unchecked ?? []) : [];
  const parts: string[] = [];
  if (ctx.warnings.length > 0) parts.push(renderWarnings(ctx.warnings, opts), '');
  parts.push(`rig:       ${ctx.rig}`, `candidate: ${ctx.candidate}`, `baseline:  ${ctx.baseline ?? 'none'}`, ...(ctx.method ? [`method:    ${ctx.method}`] : []), '');
  if (results.length === 0 && goals.length === 0 && unchecked.length === 0) {
    parts.push('The rig defines no gates: nothing to check.');
    return parts.join('\n');
  }
  if (results.length === 0) parts.push('The rig defines no gates.', '');
  else {
    parts.push(
      renderTable(
        [{ header: 'verdict' }, { header: 'gate', align: 'right' }, { header: 'cell' }, { header: 'check' }, { header: 'detail' }],
        results.map((result) => [result.verdict, String(result.gate), result.cell, describeCheck(result), result.detail]),
        opts,
      ),
      '',
    );
  }
  if (goals.length > 0) {
    parts.push(
      renderTable(
        [{ header: 'goal' }, { header: 'ratio goal' }, { header: 'detail' }],
        goals.map((goal) => [goal.verdict, describeGoal(goal), goal.detail]),
        opts,
      ),
      '',
    );
  }
  if (ctx.mode && unchecked.length > 0) parts.push(...uncheckedBlock(unchecked, ctx.mode, opts.maxWidth), '');
  const failed = results.some((result) => result.verdict === 'fail') || (ctx.mode?.strict === true && unchecked.length > 0);
  const tally = [tallyResults(results), tallyGoals(goals), ctx.mode && unchecked.length > 0 ? uncheckedTally(unchecked, ctx.mode) : '']
    .filter(Boolean)
    .join('; ');
  parts.push(`${failed ? 'FAIL' : 'PASS'}: ${tally}.`);
  return parts.join('\n');
}
