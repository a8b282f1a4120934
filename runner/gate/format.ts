/** Gate results as a terminal table, warnings first and a one-line tally last. */
import type { GateResult } from '../artifact/schema.ts';
import { renderTable } from '../report/table.ts';
import { renderWarnings } from '../report/warning-box.ts';
import { describeCheck, tallyResults } from './describe.ts';
import type { GateMarkdownContext } from './markdown.ts';

export function formatGateResults(results: GateResult[], ctx: GateMarkdownContext, opts: { maxWidth?: number } = {}): string {
  const parts: string[] = [];
  if (ctx.warnings.length > 0) parts.push(renderWarnings(ctx.warnings, opts), '');
  parts.push(`rig:       ${ctx.rig}`, `candidate: ${ctx.candidate}`, `baseline:  ${ctx.baseline ?? 'none'}`, ...(ctx.method ? [`method:    ${ctx.method}`] : []), '');
  if (results.length === 0) {
    parts.push('The rig defines no gates: nothing to check.');
    return parts.join('\n');
  }
  parts.push(
    renderTable(
      [{ header: 'verdict' }, { header: 'gate', align: 'right' }, { header: 'cell' }, { header: 'check' }, { header: 'detail' }],
      results.map((result) => [result.verdict, String(result.gate), result.cell, describeCheck(result), result.detail]),
      opts,
    ),
    '',
    `${results.some((result) => result.verdict === 'fail') ? 'FAIL' : 'PASS'}: ${tallyResults(results)}.`,
  );
  return parts.join('\n');
}
