/**
 * The full table `rigor run --verbose` prints: one row per cell and metric
 * (n, median, p95, CI, CV, outliers), every note and every gate result in full.
 * A batched metric's row shows its slope and the slope's CI where a median
 * would be, and says so beside the metric's name. A statistic a metric's
 * `show` names that is not a column already (mean) gets a column after p95.
 */
import { storedStat, storedValue } from '../artifact/metric-value.ts';
import type { Artifact } from '../artifact/schema.ts';
import { notColdReason } from '../artifact/cell-facts.ts';
import { formatInterval, formatNumber, formatValue } from './number.ts';
import { describeCheck } from '../gate/describe.ts';
import { renderTable } from './table.ts';
import type { Stat } from '../rig/schema.ts';

export function formatResultsTable(artifact: Artifact, opts: { maxWidth?: number } = {}): string {
  const rows: string[][] = [];
  const notes: string[] = [];
  let outliersNote: string | undefined;
  const extra = extraStats(artifact);
  for (const cell of artifact.cells) {
    if (cell.status !== 'ok' && Object.values(cell.metrics).every((m) => m.samples.length === 0)) {
      rows.push([cell.id, '', '', '—', '', ...extra.map(() => ''), '', '', '', cell.status]);
      notes.push(`${cell.id}: ${cell.status}: ${cell.reason ?? ''}`);
      continue;
    }
    if (cell.status !== 'ok') notes.push(`${cell.id}: ${cell.status}: ${cell.reason ?? ''}`);
    if (cell.truncated) notes.push(`${cell.id}: truncated: ${cell.truncated}`);
    if (typeof cell.facts?.summary === 'string') notes.push(`${cell.id}: ${cell.facts.summary}`);
    const notCold = notColdReason(cell);
    if (notCold) notes.push(`${cell.id}: not cold: ${notCold}`);
    const measured = Object.entries(cell.metrics).filter(([, metric]) => metric.samples.length > 0);
    // A cell reports the metrics its workload measures; the rig's others stay out of its rows.
    for (const [name, metric] of measured.length > 0 ? measured : Object.entries(cell.metrics)) {
      const s = metric.summary;
      outliersNote ??= s?.outliers.note;
      const shown = storedValue(metric);
      const r2 = metric.slope?.r2;
      rows.push([
        cell.id,
        shown?.stat === 'slope' ? `${name} (slope${typeof r2 === 'number' ? `, r² ${r2.toFixed(3)}` : ''})` : name,
        String(s?.n ?? 0),
        formatValue(shown?.value, metric.unit),
        formatValue(s?.p95, metric.unit),
        ...extra.map((stat) => formatValue(storedStat(metric, stat)?.value, metric.unit)),
        shown?.ci95 ? formatInterval(shown.ci95) : '—',
        s?.cv === null || s?.cv === undefined ? '—' : `${formatNumber(s.cv * 100)}%`,
        s && s.outliers.note === undefined ? String(s.outliers.low + s.outliers.high) : '—',
        cell.status,
      ]);
    }
  }
  const table = renderTable(
    [
      { header: 'cell' },
      { header: 'metric' },
      { header: 'n', align: 'right' },
      { header: 'median', align: 'right' },
      { header: 'p95', align: 'right' },
      ...extra.map((stat) => ({ header: stat, align: 'right' as const })),
      { header: 'median 95% CI', align: 'right' },
      { header: 'CV', align: 'right' },
      { header: 'outliers', align: 'right' },
      { header: 'status' },
    ],
    rows,
    opts,
  );
  const gates = gateLines(artifact);
  return [
    ...runHeader(artifact),
    '',
    table,
    ...(outliersNote ? ['', `outliers — : ${outliersNote}`] : []),
    ...(notes.length ? ['', ...notes.map((n) => `  ${n}`)] : []),
    ...(artifact.ratios?.length ? ['', 'ratios:', ...artifact.ratios.map((r) => `  ${r.name}: ${r.detail}`)] : []),
    ...(gates.length ? ['', 'gates:', ...gates] : []),
    ...(artifact.host.warnings.length ? ['', 'host warnings:', ...artifact.host.warnings.map((w) => `  ${w}`)] : []),
  ].join('\n');
}

/** The statistics metrics' `show` names beyond the median and p95 columns every row has, in the order first named. */
function extraStats(artifact: Artifact): Stat[] {
  const named = Object.values(artifact.rig.definition.metrics).flatMap((def) => def.show ?? []);
  return [...new Set(named)].filter((stat) => !['median', 'p50', 'p95'].includes(stat));
}

/** How the cells were ordered, when not one after another: the reader of a ratio needs to know. */
function modeNote(artifact: Artifact): string {
  const rounds = artifact.interleave ? `${artifact.interleave.rounds_done} shuffled rounds` : 'shuffled rounds';
  if (artifact.run.mode === 'interleaved') return `, interleaved (${rounds}, seed ${artifact.interleave?.seed ?? '?'})`;
  if (artifact.run.mode === 'ab') return `, head side of an A/B run (${rounds})`;
  return '';
}

/** The rig, the run's status, the host and the commit: the first two lines of both reports. */
export function runHeader(artifact: Artifact): [string, string] {
  const kvm = artifact.host.virtualization.kvm;
  // KVM is news when usable, or when the run warned about it: a rig that starts no guest is not told of TCG.
  const kvmNote = kvm.status === 'usable' || artifact.host.warnings.some((warning) => warning.startsWith('kvm:')) ? `, KVM ${kvm.status}` : '';
  return [
    `${artifact.rig.definition.title} (${artifact.rig.name}) — ${artifact.run.status}${modeNote(artifact)}`,
    `host ${artifact.host.id}: ${artifact.host.cpu.model}, ${artifact.host.cpu.logical_cpus} cpus, kernel ${artifact.host.kernel.release}${kvmNote}; commit ${artifact.git.commit?.slice(0, 7) ?? 'none'}${artifact.git.dirty ? ' (dirty)' : ''}`,
  ];
}

/** One line per gate whose cells all wait for a baseline; otherwise one line per cell. */
function gateLines(artifact: Artifact): string[] {
  const lines: string[] = [];
  const indexes = [...new Set(artifact.gates.map((g) => g.gate))];
  for (const index of indexes) {
    const results = artifact.gates.filter((g) => g.gate === index);
    const check = describeCheck(results[0]!);
    if (results.every((r) => r.verdict === 'needs-baseline')) {
      lines.push(`  #${index} ${check} (${results.length} cells): needs a baseline — rigor gate <this artifact> --baseline <an earlier one>`);
      continue;
    }
    for (const r of results) lines.push(`  #${index} ${check} [${r.cell}]: ${r.verdict} — ${r.detail}`);
  }
  return lines;
}
