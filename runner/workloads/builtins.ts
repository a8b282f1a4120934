/** The workloads rigor ships, registered once when this module is first imported. */
import { commandWorkload } from './command.ts';
import { harnessWorkload } from './harness.ts';
import { registerWorkload } from './registry.ts';
import { statsSummarizeWorkload } from './stats-summarize.ts';

export const builtinWorkloads = [commandWorkload, harnessWorkload, statsSummarizeWorkload];
for (const workload of builtinWorkloads) registerWorkload(workload);
