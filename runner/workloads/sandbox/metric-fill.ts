/** Workload.cannotFill for a sandbox workload that fills metrics by name: its times in ms, its counts each in its unit. */
import type { MetricDef } from '../../rig/schema.ts';

export function fillsByName(workload: string, timed: readonly string[], counted: Readonly<Record<string, string>> = {}): (metric: MetricDef, query: { name: string }) => string | null {
  return (metric, query) => {
    const unit = counted[query.name];
    if (unit) return metric.kind === 'counted' && metric.unit === unit ? null : `a counted metric in ${unit}: ${workload} counts ${query.name}`;
    if (timed.includes(query.name)) return metric.kind !== 'counted' && metric.unit === 'ms' ? null : `a timed metric in ms: ${workload} times ${query.name}`;
    return `one of the metrics ${workload} fills (${[...timed, ...Object.keys(counted)].join(', ')})`;
  };
}
