/** Words for gate results, shared by the terminal table and the markdown summary. */
import type { GateResult } from '../artifact/schema.ts';

/** What the gate checks: "p95 total_ms ≤ 250", "median ready_ms ≤ 1.2× baseline". */
export function describeCheck(result: GateResult): string {
  const subject = `${result.stat} ${result.metric}`;
  if (result.kind === 'relative') return `${subject} ≤ ${result.bound.max_ratio}× baseline`;
  const { min, max } = result.bound;
  if (min !== undefined && max !== undefined) return `${min} ≤ ${subject} ≤ ${max}`;
  return max !== undefined ? `${subject} ≤ ${max}` : `${subject} ≥ ${min}`;
}

/** "2 regressions, 5 pass, 1 skipped, 1 needs a baseline". */
export function tallyResults(results: GateResult[]): string {
  const count = (verdict: GateResult['verdict']) => results.filter((result) => result.verdict === verdict).length;
  const fails = count('fail');
  const parts = [
    fails > 0 ? `${fails} regression${fails === 1 ? '' : 's'}` : '',
    count('pass') > 0 ? `${count('pass')} pass` : '',
    count('skipped') > 0 ? `${count('skipped')} skipped` : '',
    count('needs-baseline') > 0 ? `${count('needs-baseline')} need${count('needs-baseline') === 1 ? 's' : ''} a baseline` : '',
  ];
  return parts.filter(Boolean).join(', ') || 'no gate results';
}
