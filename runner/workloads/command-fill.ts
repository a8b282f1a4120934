/**
 * Which of a rig's metrics the `command` workload fills, and with what: the
 * wall time (the first metric in ms that nothing else claims), the child's
 * CPU times (`user_ms`, `sys_ms`), and every metric `params.metrics` says
 * where to read. Anything else it cannot fill: the rig is refused when it is
 * loaded, naming the metric, rather than run into empty columns.
 */
import type { FillQuery } from '../contract/workload.ts';
import type { MetricDef } from '../rig/schema.ts';
import { sourceKindOf, sourcedMetricNames, sourceUnitProblem, type SourceKind } from './metric-sources.ts';

/** CPU-time metrics by name: the child's rusage (native spawner). */
const CPU_TIMES = ['user_ms', 'sys_ms'] as const;

/** The metric that takes each run's wall time: the first in ms that is neither a CPU time nor read from output. */
export function wallMetric(metrics: Record<string, MetricDef>, sourced: readonly string[]): string | undefined {
  return Object.keys(metrics).find(
    (name) => !(CPU_TIMES as readonly string[]).includes(name) && !sourced.includes(name) && metrics[name]?.unit === 'ms',
  );
}

/** An example source for a metric of this unit, for the message that asks for one. */
function exampleSource(name: string, metric: MetricDef): string {
  if (sourceUnitProblem('output_size', metric) === null) return `params.metrics.${name}: { from: output_size }`;
  if (sourceUnitProblem('throughput', metric) === null) return `params.metrics.${name}: { from: throughput, input_bytes: 1048576 }`;
  return `params.metrics.${name}: { from: stdout, json: ${name} }`;
}

/** The kind of each source in params.metrics as written (undefined for one that names no known kind). */
export function sourceKinds(rawSources: unknown): Record<string, SourceKind | undefined> {
  return Object.fromEntries(sourcedMetricNames(rawSources).map((name) => [name, sourceKindOf((rawSources as Record<string, unknown>)[name])]));
}

/**
 * What metric `name` would have to be for the command workload to fill it
 * when params.metrics has sources of these kinds, or null when it can.
 */
export function commandCannotFill(name: string, metric: MetricDef, metrics: Record<string, MetricDef>, sources: Record<string, SourceKind | undefined>): string | null {
  const sourced = Object.keys(sources);
  if (sourced.includes(name)) {
    const kind = sources[name];
    // A source that names no known kind is a problem of params.metrics, reported there.
    return kind ? sourceUnitProblem(kind, metric) : null;
  }
  if ((CPU_TIMES as readonly string[]).includes(name)) {
    return metric.unit === 'ms' && metric.kind !== 'counted' ? null : `a timed metric in ms (${name} is the child's CPU time from its rusage)`;
  }
  const wall = wallMetric(metrics, sourced);
  if (name === wall) {
    return metric.kind === 'counted' ? 'a timed metric (the command workload times; a counted metric needs a counting workload, e.g. callgrind, or a source in params.metrics)' : null;
  }
  const walls = wall ? `wall time (the first metric in ms, here ${wall})` : 'wall time (the first metric in ms)';
  return `a metric the command workload fills: ${walls}, user_ms, sys_ms, or one that params.metrics says where to read (e.g. ${exampleSource(name, metric)})`;
}

/** The command workload's Workload.cannotFill: fillable when some of its cells' params can fill it. */
export function cannotFillCommand(metric: MetricDef, query: FillQuery): string | null {
  const sets = query.params.length > 0 ? query.params : [{}];
  const reasons = sets.map((params) => commandCannotFill(query.name, metric, query.metrics, sourceKinds(params.metrics)));
  return reasons.includes(null) ? null : reasons[0]!;
}
