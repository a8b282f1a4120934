/** The workloads rigor ships, registered once when this module is first imported. */
import { callgrindWorkload } from './callgrind/workload.ts';
import { commandWorkload } from './command.ts';
import { bypassWorkload } from './egress/bypass-workload.ts';
import { escapesWorkload } from './escape/escapes-workload.ts';
import { backendConnector } from './engine-cycle/connector.ts';
import { engineCycleWorkload } from './engine-cycle/workload.ts';
import { gateCalibrationWorkload } from './gate-calibration.ts';
import { harnessWorkload } from './harness.ts';
import { killWorkload } from './kill/workload.ts';
import { registerWorkload } from './registry.ts';
import { densityWorkload } from './sandbox/density.ts';
import { enforcementWorkload } from './sandbox/enforcement.ts';
import { execWorkload } from './sandbox/exec.ts';
import { forkWorkload } from './sandbox/fork.ts';
import { guestBenchWorkload } from './sandbox/guest-bench.ts';
import { kernelSizeWorkload } from './sandbox/kernel-size.ts';
import { lifecycleWorkload } from './sandbox/lifecycle.ts';
import { loadWorkload } from './sandbox/load.ts';
import { poolWorkload } from './sandbox/pool.ts';
import { snapshotWorkload } from './sandbox/snapshot.ts';
import { poolTiersWorkload } from './sandbox/pool-tiers.ts';
import { policyWorkload } from './policy.ts';
import { proxyLoadWorkload } from './proxy-load.ts';
import { statsSummarizeWorkload } from './stats-summarize.ts';

export const builtinWorkloads = [commandWorkload, harnessWorkload, statsSummarizeWorkload, lifecycleWorkload, execWorkload, densityWorkload, loadWorkload, poolWorkload, poolTiersWorkload, snapshotWorkload, forkWorkload, policyWorkload, proxyLoadWorkload, enforcementWorkload, bypassWorkload, guestBenchWorkload, kernelSizeWorkload, gateCalibrationWorkload, callgrindWorkload, engineCycleWorkload(backendConnector), killWorkload, escapesWorkload];
for (const workload of builtinWorkloads) registerWorkload(workload);
