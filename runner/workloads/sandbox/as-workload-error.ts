/** A sandbox that fails to start or answer is a failure of the measured thing: the cell fails, keeping its samples. */
import { WorkloadError } from '../../contract/workload.ts';
import type { SampleOnce } from '../../sampling/loop.ts';

export function failuresAsWorkloadErrors(once: SampleOnce): SampleOnce {
  return async (index, signal) => {
    try {
      return await once(index, signal);
    } catch (error) {
      if (error instanceof WorkloadError || signal.aborted) throw error;
      throw new WorkloadError(error instanceof Error ? error.message : String(error));
    }
  };
}
