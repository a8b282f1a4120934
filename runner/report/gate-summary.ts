/**
 * The gates of a run in a few lines: one per verdict and gate, its cells said
 * short, and the command to run next (a baseline to gate against, a
 * comparison to see what moved); then the rig's ratio goals, which are gates
 * too. Reasons go to the shared numbered notes.
 */
import type { Artifact, GateResult } from '../artifact/schema.ts';
import { describeCheck, tallyResults } from '../gate/describe.ts';
import { describeGoal, ratioGoals, tallyGoals, type GoalVerdict, type RatioGoal } from '../gate/ratio-goals.ts';
import { describeCells } from './cell-set.ts';
import type { Footnotes } from './footnotes.ts';
import { formatRatioAgainst } from './number.ts';
import { wrapText } from './wrap.ts';

export interface NextCommandOptions {
  /** The artifact's path; default "<artifact>". */
  artifactPath?: string;
  /** What `--baseline` can name: an earlier artifact or the rig name; null when there is none yet. */
  baseline?: string | null;
}

const VERDICTS: { verdict: GateResult['verdict']; label: string }[] = [
  { verdict: 'fail', label: 'FAIL' },
  { verdict: 'needs-baseline', label: 'needs a baseline' },
  { verdict: 'skipped', label: 'skipped' },
  { verdict: 'pass', label: 'pass' },
];

const GOAL_VERDICTS: GoalVerdict[] = ['missed', 'not computed', 'met'];

export function gateSummary(artifact: Artifact, notes: Footnotes, width: number, opts: NextCommandOptions = {}): string[] {
  const results = artifact.gates;
  const goals = ratioGoals(artifact.ratios);
  if (results.length === 0 && goals.length === 0) return [];
  const artifactPath = opts.artifactPath ?? '<artifact>';
  const present = VERDICTS.filter(({ verdict }) => results.some((r) => r.verdict === verdict));
  const goalsOf = (verdict: GoalVerdict) => goals.filter((goal) => goal.verdict === verdict);
  const goalLabel = (verdict: GoalVerdict) => `goal ${verdict} (${goalsOf(verdict).length})`;
  const presentGoals = GOAL_VERDICTS.filter((verdict) => goalsOf(verdict).length > 0);
  const labelWidth = Math.max(
    ...present.map(({ verdict, label }) => `${label} (${results.filter((r) => r.verdict === verdict).length})`.length),
    ...presentGoals.map((verdict) => goalLabel(verdict).length),
  );
  const lines = [`gates: ${[results.length > 0 ? tallyResults(results) : '', tallyGoals(goals)].filter(Boolean).join('; ')}`];
  const indent = ' '.repeat(2 + labelWidth + 2);
  for (const { verdict, label } of present) {
    const ofVerdict = results.filter((r) => r.verdict === verdict);
    let first = true;
    for (const gate of [...new Set(ofVerdict.map((r) => r.gate))]) {
      const ofGate = ofVerdict.filter((r) => r.gate === gate);
      const head = first ? `  ${`${label} (${ofVerdict.length})`.padEnd(labelWidth)}  ` : indent;
      first = false;
      const cells = describeCells(
        ofGate.map((r) => r.cell),
        artifact.cells,
      );
      const refs = verdict === 'skipped' ? ` ${[...new Set(ofGate.map((r) => skipRef(artifact, r, notes)))].join(' ')}` : '';
      lines.push(...wrapText(`#${gate} ${describeCheck(ofGate[0]!)} — ${cells}${refs}`, width, head, `${indent}  `));
      if (verdict === 'fail') {
        for (const r of ofGate) lines.push(...wrapText(`${r.cell}: ${r.detail}`, width, `${indent}  `, `${indent}    `));
      }
    }
    for (const next of nextCommand(verdict, artifact.rig.name, artifactPath, opts.baseline)) {
      lines.push(...wrapText(next, width, `${indent}→ `, `${indent}    `));
    }
  }
  for (const verdict of presentGoals) {
    goalsOf(verdict).forEach((goal, i) => {
      const head = i === 0 ? `  ${goalLabel(verdict).padEnd(labelWidth)}  ` : indent;
      lines.push(...wrapText(`${describeGoal(goal)} — ${goalOutcome(goal)}`, width, head, `${indent}  `));
    });
  }
  return lines;
}

/** "2.33×"; the reason a ratio was not computed is in the ratios above, said once. */
function goalOutcome(goal: RatioGoal): string {
  return goal.ratio === null ? 'a side was not measured (ratios above)' : formatRatioAgainst(goal.ratio, [goal.max]);
}

/** The note of a skipped gate result: the cell's own reason when the cell was not measured, else the gate's detail. */
function skipRef(artifact: Artifact, result: GateResult, notes: Footnotes): string {
  const cell = artifact.cells.find((c) => c.id === result.cell);
  if (cell && cell.status !== 'ok' && /^candidate cell (skipped|failed)/.test(result.detail)) {
    return notes.ref(cell.reason ?? 'no reason recorded');
  }
  return notes.ref(result.detail);
}

/** The command to run next, on a line of its own so it can be copied whole. */
function nextCommand(verdict: GateResult['verdict'], rig: string, artifactPath: string, baseline: string | null | undefined): string[] {
  if (verdict === 'needs-baseline') {
    if (baseline === null) return [`no earlier ${rig} artifact yet; after the next run:`, `rigor gate ${rig} --baseline ${artifactPath}`];
    return [`rigor gate ${artifactPath} --baseline ${baseline ?? '<an earlier artifact>'}`];
  }
  if (verdict === 'fail' && baseline !== null) {
    return ['what moved since the run before:', `rigor compare ${baseline ?? '<an earlier artifact>'} ${artifactPath}`];
  }
  return [];
}
