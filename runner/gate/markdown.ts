/** Gate results as GitHub-flavoured markdown, for $GITHUB_STEP_SUMMARY. */
import type { GateResult } from '../artifact/schema.ts';
import { formatInterval, formatNumber, formatP, formatRatioAgainst } from '../report/number.ts';
import { describeCheck, tallyResults } from './describe.ts';
import { describeGoal, tallyGoals, type GoalVerdict, type RatioGoal } from './ratio-goals.ts';
import type { StrictMode, Unchecked } from './strict.ts';
import { uncheckedMarkdown, uncheckedNoun, uncheckedTally } from './strict-report.ts';

export interface GateMarkdownContext {
  rig: string;
  candidate: string;
  baseline?: string;
  /** How the baseline was measured against the candidate: cross-run or paired (one line). */
  method?: string;
  warnings: string[];
  /** The rig's ratio goals, judged as gates. */
  goals?: RatioGoal[];
  /** What the gates did not check (runner/gate/strict.ts), and whether that fails: shown only with a mode. */
  unchecked?: Unchecked[];
  mode?: StrictMode;
}

const ICON: Record<GateResult['verdict'], string> = {
  pass: '✅ pass',
  fail: '❌ fail',
  skipped: '⚪ skipped',
  'needs-baseline': '⚪ needs baseline',
};

/** Pipes would end a table cell and newlines the row. */
function cell(text: string): string {
  return text.replaceAll('\\', '\\\\').replaceAll('|', '\\|').replaceAll('\n', ' ');
}

/** The worsening factor with the digits that show it beside its bound, as the detail words it. */
function ratioText(result: GateResult): string {
  if (result.ratio === null || result.ratio === undefined) return '—';
  const bounds = result.bound.max_ratio === undefined ? [] : [result.bound.max_ratio];
  const ratio = formatRatioAgainst(result.ratio, bounds);
  return result.ratio_ci95 ? `${ratio} (${formatInterval(result.ratio_ci95)})` : ratio;
}

function goalIcon(verdict: GoalVerdict, mode: StrictMode | undefined): string {
  if (verdict === 'met') return '✅ met';
  if (verdict === 'missed') return mode?.strict ? '❌ missed' : '⚠️ missed';
  return '⚪ not computed';
}

export function gateMarkdown(results: GateResult[], ctx: GateMarkdownContext): string {
  const goals = ctx.goals ?? [];
  const unchecked = ctx.mode ? (ctx.unchecked ?? []) : [];
  const fails = results.filter((result) => result.verdict === 'fail').length;
  const headline =
    fails > 0
      ? `❌ ${fails} regression${fails === 1 ? '' : 's'}`
      : unchecked.length === 0
        ? '✅ pass'
        : `${ctx.mode?.strict ? '❌' : '⚠️ pass,'} ${unchecked.length} ${uncheckedNoun(unchecked)}`;
  const lines = [`## rigor gate \`${ctx.rig}\`: ${headline}`, ''];
  const tally = [tallyResults(results), tallyGoals(goals), ctx.mode && unchecked.length > 0 ? uncheckedTally(unchecked, ctx.mode) : ''];
  lines.push(`${tally.filter(Boolean).join('; ')}.`, '');
  lines.push(`- candidate: \`${ctx.candidate}\``, `- baseline: ${ctx.baseline ? `\`${ctx.baseline}\`` : 'none'}`, ...(ctx.method ? [`- method: ${ctx.method}`] : []), '');
  if (ctx.warnings.length > 0) {
    // One blockquote, warnings separated by an empty quoted line so each is its own paragraph.
    lines.push(ctx.warnings.map((warning) => `> ⚠️ **Warning:** ${warning}`).join('\n>\n'), '');
  }
  if (ctx.mode) lines.push(...uncheckedMarkdown(unchecked, ctx.mode));
  if (goals.length > 0) {
    lines.push('| ratio goal | verdict | ratio (95% CI) | detail |', '|---|---|---:|---|');
    for (const goal of goals) {
      const shown = goal.ratio === null ? '—' : formatRatioAgainst(goal.ratio, [goal.max]);
      const ratio = goal.ratio !== null && goal.ci95 ? `${shown} (${formatInterval(goal.ci95)})` : shown;
      lines.push(`| ${cell(describeGoal(goal))} | ${goalIcon(goal.verdict, ctx.mode)} | ${ratio} | ${cell(goal.detail)} |`);
    }
    lines.push('');
  }
  if (results.length === 0) {
    lines.push('The rig defines no gates.');
    return `${lines.join('\n')}\n`;
  }
  lines.push('| verdict | gate | cell | check | value | baseline | worsening ratio (95% CI) | p | detail |');
  lines.push('|---|---:|---|---|---:|---:|---:|---:|---|');
  for (const result of results) {
    const value = result.value === null ? '—' : formatNumber(result.value);
    const base = result.baseline_value === null || result.baseline_value === undefined ? '—' : formatNumber(result.baseline_value);
    lines.push(
      `| ${ICON[result.verdict]} | ${result.gate} | ${cell(result.cell)} | ${cell(describeCheck(result))} | ${value} | ${base} | ${ratioText(result)} | ${formatP(result.p_value)} | ${cell(result.detail)} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}
