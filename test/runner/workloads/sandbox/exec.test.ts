/**
 * sandbox.exec's params and its paired samples: a rig declaring api_added_ms
 * gets, in an e2b cell over rigor's own server (here on the process backend),
 * each exec through the API and the same exec directly on the same sandbox,
 * and the difference of the two in the same sample.
 */
import { describe, expect, it } from 'vitest';
import { execWorkload } from '../../../../runner/workloads/sandbox/exec.ts';
import { testCell } from '../../../helpers/cell-context.ts';

const PAIRED = { roundtrip_ms: {}, direct_roundtrip_ms: {}, api_added_ms: {} };

describe('sandbox.exec', () => {
  it('pairs each exec through the API with the same exec directly, and api_added_ms is their difference in the sample', async () => {
    // The command fails (and with it the cell) unless the env param reached it by both ways.
    const command = ['/bin/bash', '-l', '-c', 'test "$RIGOR_TEST_MARK" = paired'];
    const { ctx } = testCell({ workload: 'sandbox.exec', params: { backend: 'e2b', serve: 'process', command, env: { RIGOR_TEST_MARK: 'paired' } }, metrics: PAIRED, sampling: { warmup: 1, iterations: 4 } });
    const result = await execWorkload.run(ctx);
    const { roundtrip_ms: api, direct_roundtrip_ms: direct, api_added_ms: added } = result.samples as Record<string, number[]>;
    expect(api).toHaveLength(4);
    expect(direct).toHaveLength(4);
    expect(added).toEqual(api!.map((ms, i) => ms - direct![i]!));
    expect(result.facts).toMatchObject({ backend: 'e2b', env: { RIGOR_TEST_MARK: 'paired' } });
  });

  it('leaves the paired metrics empty for a backend with no direct path', async () => {
    const { ctx } = testCell({ workload: 'sandbox.exec', params: { backend: 'process', command: ['true'] }, metrics: PAIRED, sampling: { iterations: 2 } });
    const result = await execWorkload.run(ctx);
    expect(result.samples.roundtrip_ms).toHaveLength(2);
    expect(result.samples.direct_roundtrip_ms ?? []).toHaveLength(0);
    expect(result.samples.api_added_ms ?? []).toHaveLength(0);
  });

  it('refuses serve: naming no backend, or e2b itself', () => {
    expect(execWorkload.validateParams!({ backend: 'e2b', serve: 'nosuch' })).toEqual([expect.stringMatching(/^params\.serve: expected a backend name, found "nosuch"; expected one of process, bwrap/)]);
    expect(execWorkload.validateParams!({ backend: 'e2b', serve: 'e2b' })).toEqual(['params.serve: expected the name of a backend other than e2b, found "e2b"']);
  });
});
