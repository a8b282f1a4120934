/**
 * docs/results.md from the committed artifacts: for every rig in rigs/, its
 * newest artifact in results/<rig>/ (by its recorded run.started_at) as tables of medians, ratios and the
 * goals' verdicts. Nothing in it is typed by hand; `npm run docs` rewrites it
 * and test/scripts/docs/results-doc.test.ts fails when it is stale.
 */
import { join } from 'node:path';
import { storedValue } from '../../runner/artifact/metric-value.ts';
import { problemLines, readRigResults } from '../../runner/artifact/read.ts';
import type { Artifact, CellResult } from '../../runner/artifact/schema.ts';
import { formatInterval, formatNumber, formatRatio, formatValue } from '../../runner/report/number.ts';
import { listRigFiles, rigNameOf } from '../../runner/rig/discover.ts';
import { GOALS, type Goal, type GoalCheck } from './goals.ts';
import { InputError } from '../../base/errors.ts';
import { existsSync } from 'node:fs';

export const RESULTS_DOC = 'docs/results.md';
/** Issue 16's page: the reliability figures (kill, load, escapes, ...) are written into it between markers. */
export const RELIABILITY_DOC = 'docs/reliability.md';
const REASON_CHARS = 110;

export interface Newest {
  rig: string;
  rigPath: string;
  /** results/<rig>/<file>.json, or null when the rig was never run */
  artifactPath: string | null;
  artifact: Artifact | null;
}

/** The newest committed artifact of every rig in rigsDir. */
export function newestArtifacts(rigsDir = 'rigs', resultsDir = 'results'): Newest[] {
  return listRigFiles(rigsDir).map((rigPath) => newestArtifactOf(rigNameOf(rigPath), resultsDir, rigPath));
}

/** One rig's newest committed artifact: its own folder read, not every rig's (a figure's generator needs one). */
export function newestArtifactOf(rig: string, resultsDir = 'results', rigPath = join('rigs', `${rig}.rig.yaml`)): Newest {
  const dir = join(resultsDir, rig);
  if (!existsSync(dir)) return { rig, rigPath, artifactPath: null, artifact: null };
  // The newest by recorded start; a committed artifact that does not read is an error here, not a quiet gap in the docs.
  const { artifacts, problems } = readRigResults(dir, rig);
  if (problems.length > 0) throw new InputError(problemLines(problems).join('\n'));
  const newest = artifacts.at(-1);
  return { rig, rigPath, artifactPath: newest?.path ?? null, artifact: newest?.artifact ?? null };
}

/** Text safe inside a markdown table cell. */
function cellText(text: string): string {
  return text.replace(/\s+/g, ' ').replace(/\|/g, '\\|').trim();
}

function short(text: string, max = REASON_CHARS): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

/** A median's (or slope's) interval in the metric's own precision ("0.000351–0.000372"); formatInterval is for ratios. */
function medianInterval(interval: { low: number; high: number } | null | undefined): string {
  return interval ? `${formatNumber(interval.low)}–${formatNumber(interval.high)}` : '—';
}

function code(text: string): string {
  return `\`${text.replace(/`/g, "'")}\``;
}

function table(headers: string[], rows: string[][], align: ('l' | 'r')[] = []): string[] {
  const rule = headers.map((_, i) => (align[i] === 'r' ? '---:' : '---'));
  return [`| ${headers.join(' | ')} |`, `| ${rule.join(' | ')} |`, ...rows.map((r) => `| ${r.map(cellText).join(' | ')} |`)];
}

/** From docs/: the repository path as a relative link. */
function link(text: string, repoPath: string): string {
  return `[${text}](../${repoPath})`;
}

function anchor(rig: string): string {
  return `#${rig.toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-')}`;
}

function stamp(iso: string): string {
  return iso.replace(/\.\d+Z$/, 'Z').replace('T', ' ').replace('Z', ' UTC');
}

function hostLine(a: Artifact): string {
  const h = a.host;
  const kvm = h.virtualization.kvm;
  const gib = formatNumber(h.memory.total_bytes / 2 ** 30);
  const commit = a.git.commit ? code(a.git.commit.slice(0, 7)) : 'no commit';
  return [
    `Host ${code(h.id)}: ${h.cpu.model}, ${h.cpu.logical_cpus} cpus, ${gib} GiB, ${h.os.pretty_name}, kernel ${h.kernel.release}, Node ${h.node};`,
    `KVM **${kvm.status}**${kvm.reason ? ` (${short(kvm.reason, 160)})` : ''}.`,
    `Commit ${commit}${a.git.dirty ? ' (dirty tree)' : ''}; run ${a.run.status}, ${stamp(a.run.started_at)} → ${stamp(a.run.finished_at)}.`,
  ].join('\n');
}

/** The metrics a cell reports: those with samples (as `rigor run`'s table shows them). */
function measured(cell: CellResult): [string, CellResult['metrics'][string]][] {
  return Object.entries(cell.metrics).filter(([, m]) => m.samples.length > 0);
}

function cellsTable(a: Artifact): string[] {
  const rows: string[][] = [];
  const stats = new Set<string>();
  for (const cell of a.cells) {
    const metrics = measured(cell);
    const status = cell.status === 'ok' ? 'ok' : `${cell.status}: ${short(cell.reason ?? 'no reason recorded')}`;
    if (metrics.length === 0) {
      rows.push([code(cell.id), '—', '', '—', '—', status]);
      continue;
    }
    for (const [name, metric] of metrics) {
      const s = storedValue(metric);
      if (s) stats.add(s.stat);
      rows.push([code(cell.id), code(name), String(s?.n ?? 0), formatValue(s?.value, metric.unit), medianInterval(s?.ci95), status]);
    }
  }
  // A batched metric (micro-benchmarks) is shown by its slope over the batches, n counting batches.
  const stat = stats.size ? [...stats].join(' or ') : 'median';
  return table(['cell', 'metric', 'n', stat, `${stat} 95% CI`, 'status'], rows, ['l', 'l', 'r', 'r', 'r', 'l']);
}

function notes(a: Artifact): string[] {
  const lines: string[] = [];
  for (const cell of a.cells) {
    if (cell.truncated) lines.push(`- ${code(cell.id)} truncated: ${cell.truncated}`);
    if (typeof cell.facts?.summary === 'string') lines.push(`- ${code(cell.id)}: ${cell.facts.summary}`);
  }
  return lines;
}

function ratioRows(a: Artifact): string[] {
  if (!a.ratios?.length) return [];
  const side = (r: NonNullable<Artifact['ratios']>[number], which: 'of' | 'to') =>
    `${code(r[which].cell)} ${r[which].metric}: ${r.stat === 'slope' ? `slope ${formatValue(r[which].slope, r[which].unit)}` : formatValue(r[which].median, r[which].unit)}`;
  const rows = a.ratios.map((r) => [
    code(r.name),
    side(r, 'of'),
    side(r, 'to'),
    formatRatio(r.ratio),
    formatInterval(r.ci95),
    r.goal ? `≤ ${formatNumber(r.goal.max)}×: ${r.goal_met === true ? 'met' : r.goal_met === false ? '**missed**' : 'not judged'}` : '—',
  ]);
  const of = a.ratios.some((r) => r.stat === 'slope') ? 'medians, or slopes of batched metrics,' : 'medians';
  return ['', `Ratios (${of} of two cells of this run; bootstrap 95% CI):`, '', ...table(['ratio', 'of', 'to', 'ratio', '95% CI', 'goal'], rows, ['l', 'l', 'l', 'r', 'r', 'l'])];
}

interface Verdict {
  measured: string;
  verdict: string;
}

function judge(check: GoalCheck, a: Artifact, goal: Goal): Verdict {
  if ('summaryOf' in check) {
    const cell = a.cells.find((c) => c.id === check.summaryOf);
    const summary = typeof cell?.facts?.summary === 'string' ? cell.facts.summary : null;
    return { measured: `${code(check.summaryOf)}: ${summary ?? 'no summary in the artifact'}`, verdict: summary ? 'the cell’s own verdict' : 'not measured' };
  }
  if ('ratio' in check) {
    const r = a.ratios?.find((x) => x.name === check.ratio);
    if (!r) return { measured: `${code(check.ratio)}: not in the artifact`, verdict: 'not measured' };
    const measuredText = `${code(check.ratio)} ${formatRatio(r.ratio)} (CI ${formatInterval(r.ci95)})`;
    if (!r.goal || r.ratio === null) return { measured: measuredText, verdict: 'not judged' };
    const met = r.ratio <= r.goal.max;
    return { measured: measuredText, verdict: met ? `met (≤ ${formatNumber(r.goal.max)}×)` : `**missed** by ${formatRatio(r.ratio / r.goal.max)} (goal ≤ ${formatNumber(r.goal.max)}×)` };
  }
  const cell = a.cells.find((c) => c.id === check.cell);
  const metric = cell?.metrics[check.metric];
  const shown = metric ? storedValue(metric) : null;
  const where = `${code(check.cell)} ${check.metric}`;
  if (!cell || !metric || !shown) return { measured: `${where}: ${cell ? cell.status : 'no such cell'}`, verdict: 'not measured' };
  const kvm = a.host.virtualization.kvm.status;
  const value = `${where} ${shown.stat === 'slope' ? 'slope ' : ''}${formatValue(shown.value, metric.unit)}${shown.ci95 ? ` (CI ${medianInterval(shown.ci95)})` : ''}`;
  if (goal.needsKvm && (kvm !== 'usable' || cell.facts?.accel === 'tcg')) {
    return { measured: `${value}, under TCG`, verdict: `not measurable here: KVM ${kvm}` };
  }
  const bound = formatValue(check.max, metric.unit);
  return { measured: value, verdict: shown.value <= check.max ? `met (≤ ${bound})` : `**missed** by ${formatRatio(shown.value / check.max)} (≤ ${bound})` };
}

function goalsSection(newest: Newest[]): string[] {
  const rows: string[][] = [];
  for (const goal of GOALS) {
    const entry = newest.find((n) => n.rig === goal.rig);
    const rigLink = `[${goal.rig}](${anchor(goal.rig)})`;
    if (!entry?.artifact) {
      rows.push([goal.goal, rigLink, 'no artifact yet', 'not measured']);
      continue;
    }
    goal.checks.forEach((check, i) => {
      const v = judge(check, entry.artifact!, goal);
      rows.push([i === 0 ? goal.goal : '', rigLink, v.measured, v.verdict]);
    });
  }
  return [
    '## Goals: met and missed',
    '',
    'The bounds are the issues’ goals (written in `scripts/docs/goals.ts`); the measured value and the verdict come from the rig’s newest artifact below.',
    '',
    ...table(['goal', 'rig', 'measured (median unless named)', 'verdict'], rows),
  ];
}

function rigSection(n: Newest): string[] {
  const head = [`## ${n.rig}`, ''];
  const rigLink = link(n.rigPath, n.rigPath);
  if (!n.artifact || !n.artifactPath) {
    return [...head, `Rig ${rigLink}: not captured yet (\`npx mise run bench:${n.rig}\`).`];
  }
  const a = n.artifact;
  const def = a.rig.definition;
  return [
    ...head,
    `**${def.title}.** ${def.claim}`,
    '',
    `Rig ${rigLink} · artifact ${link(n.artifactPath.split('/').at(-1)!, n.artifactPath)} · reproduce: \`npx mise run bench:${n.rig}\``,
    '',
    hostLine(a),
    '',
    ...cellsTable(a),
    ...(notes(a).length ? ['', ...notes(a)] : []),
    ...ratioRows(a),
  ];
}

function overview(newest: Newest[]): string[] {
  const rows = newest.map((n) => {
    const a = n.artifact;
    if (!a || !n.artifactPath) return [`[${n.rig}](${anchor(n.rig)})`, '—', 'not captured yet', '', ''];
    return [
      `[${n.rig}](${anchor(n.rig)})`,
      a.rig.definition.title,
      link(n.artifactPath.split('/').at(-1)!, n.artifactPath),
      a.host.cpu.model,
      a.host.virtualization.kvm.status,
    ];
  });
  return table(['rig', 'what it measures', 'newest artifact', 'CPU', 'KVM'], rows);
}

/** The whole of docs/results.md. */
export function renderResultsDoc(rigsDir = 'rigs', resultsDir = 'results'): string {
  const newest = newestArtifacts(rigsDir, resultsDir);
  const lines = [
    '# Results',
    '',
    '<!-- Generated by `npm run docs` (scripts/docs/results-doc.ts) from rigs/ and results/. Do not edit by hand. -->',
    '',
    'Every number on this page is read from the newest committed artifact of each rig (`results/<rig>/`, the last file name in',
    'UTC-stamp order). Medians with the seeded bootstrap 95% CI of the median; a skipped or failed cell shows its reason.',
    'Numbers from artifacts of different hosts or dates are not comparable; ratios inside one artifact are. What the fields mean:',
    '[artifacts and statistics](artifacts-and-statistics.md); what each rig shows and why: the [README](../README.md#what-the-rigs-show).',
    '',
    ...overview(newest),
    '',
    ...goalsSection(newest),
    ...newest.flatMap((n) => ['', ...rigSection(n)]),
    '',
  ];
  return lines.join('\n');
}
