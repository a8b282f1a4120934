export { builtinWorkloads } from './builtins.ts';
export { getWorkload, isWorkload, listWorkloads, registerWorkload } from './registry.ts';
export { commandWorkload, createCommandWorkload } from './command.ts';
export { harnessWorkload } from './harness.ts';
export { microWorkload, type MicroDefinition } from './micro.ts';
export { statsSummarizeWorkload } from './stats-summarize.ts';
export { openSpawner, type Spawner, type TimedRun, type OutputMode } from './spawner.ts';
export { WorkloadError, type CellContext, type Workload, type WorkloadResult } from './types.ts';
