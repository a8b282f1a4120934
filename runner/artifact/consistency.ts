/**
 * What the artifact schema cannot say about cells: ids are unique (compare and
 * gate match cells by id), a cell measures each metric as the embedded rig
 * defines it, and no sample is negative where a negative is impossible. Pure.
 */
import type { MetricDef } from '../rig/schema.ts';
import { pointerToken } from './recompute.ts';
import type { Artifact, CellResult, MetricResult } from './schema.ts';

/** A duration in one of these units is never negative. */
const DURATION_UNITS = new Set(['ns', 'us', 'µs', 'μs', 'ms', 's', 'min', 'h']);

/**
 * Why a metric's samples cannot be negative, or null when they can: a counted
 * metric counts; a timed metric in a duration unit is the time between two
 * events; a rate (".../s") is an amount over a time. A size can be negative
 * (density's memavailable_drop_per_sandbox_mib is a difference of two sizes);
 * a metric the rig declares `signed` is a difference, of any sign.
 */
export function nonNegativeBecause(metric: Pick<MetricDef, 'unit' | 'kind' | 'signed'>): string | null {
  if (metric.signed) return null;
  if (metric.kind === 'counted') return `a count (${metric.unit})`;
  if (DURATION_UNITS.has(metric.unit)) return `a duration (${metric.unit})`;
  if (metric.unit.endsWith('/s')) return `a rate (${metric.unit})`;
  return null;
}

/** How a cell's metric is defined, field by field, against the rig's definition. */
const DEFINING_FIELDS = ['unit', 'kind', 'better', 'clock'] as const;

function cellProblems(cells: readonly CellResult[], at: string, metrics: Record<string, MetricDef>): string[] {
  const lines: string[] = [];
  const firstAt = new Map<string, number>();
  cells.forEach((cell, i) => {
    const first = firstAt.get(cell.id);
    if (first === undefined) firstAt.set(cell.id, i);
    else lines.push(`  at ${at}/${i}/id: expected a cell id no other cell has; found "${cell.id}", the id of ${at}/${first} too`);
    for (const [name, metric] of Object.entries(cell.metrics) as [string, MetricResult][]) {
      const where = `${at}/${i}/metrics/${pointerToken(name)}`;
      const def = metrics[name];
      for (const field of DEFINING_FIELDS) {
        if (def && def[field] !== metric[field]) {
          lines.push(`  at ${where}/${field}: expected the rig's ${field} of ${name}, ${JSON.stringify(def[field] ?? null)}; found ${JSON.stringify(metric[field] ?? null)}`);
        }
      }
      const because = nonNegativeBecause(def ?? metric);
      const negative = because ? metric.samples.findIndex((x) => x < 0) : -1;
      if (negative >= 0) lines.push(`  at ${where}/samples/${negative}: expected a number >= 0, ${because}; found ${metric.samples[negative]}`);
    }
  });
  return lines;
}

/** Lines as formatSchemaErrors writes them; none when the cells are consistent. */
export function consistencyProblems(artifact: Artifact): string[] {
  const metrics = artifact.rig.definition.metrics;
  return [
    ...cellProblems(artifact.cells, '/cells', metrics),
    ...(artifact.ab ? cellProblems(artifact.ab.base_cells, '/ab/base_cells', metrics) : []),
  ];
}
