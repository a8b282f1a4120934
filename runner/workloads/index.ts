/** The built-in workloads, registered on import, and the workload API. */
import { commandWorkload } from './command.ts';
import { harnessWorkload } from './harness.ts';
import { registerWorkload } from './registry.ts';
import { statsSummarizeWorkload } from './stats-summarize.ts';

for (const workload of [commandWorkload, harnessWorkload, statsSummarizeWorkload]) registerWorkload(workload);

export { getWorkload, isWorkload, listWorkloads, registerWorkload } from './registry.ts';
export { commandWorkload, createCommandWorkload } from './command.ts';
export { harnessWorkload } from './harness.ts';
export { microWorkload, type MicroDefinition } from './micro.ts';
export { statsSummarizeWorkload } from './stats-summarize.ts';
export { openSpawner, type Spawner, type TimedRun, type OutputMode } from './spawner.ts';
export { WorkloadError, type CellContext, type Workload, type WorkloadResult } from './types.ts';
