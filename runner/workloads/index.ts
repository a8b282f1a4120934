export { builtinWorkloads } from './builtins.ts';
export { cannotFill, getWorkload, isBatchedWorkload, isWorkload, listWorkloads, registerWorkload, workloadChecks } from './registry.ts';
export { commandWorkload, createCommandWorkload } from './command.ts';
export { harnessWorkload } from './harness.ts';
export { microWorkload, type MicroDefinition } from './micro.ts';
export { statsSummarizeWorkload } from './stats-summarize.ts';
export { openSpawner } from '../process/open-spawner.ts';
export type { Spawner, TimedRun, OutputMode } from '../process/spawner.ts';
export { WorkloadError, type CellContext, type Workload, type WorkloadResult } from '../contract/workload.ts';
