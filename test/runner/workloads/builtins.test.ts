/** Every param a built-in workload declares is documented in docs/rig-files.md. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { builtinWorkloads } from '../../../runner/workloads/builtins.ts';

const doc = readFileSync('docs/rig-files.md', 'utf8');

describe('built-in workloads', () => {
  it('declare their params as a schema (command and harness.fidelity may still check theirs by hand)', () => {
    const handChecked = ['command', 'harness.fidelity'];
    expect(builtinWorkloads.filter((w) => !w.paramsSchema && !handChecked.includes(w.name)).map((w) => w.name)).toEqual([]);
  });

  for (const workload of builtinWorkloads.filter((w) => w.paramsSchema)) {
    it(`${workload.name}: each of its params is named in docs/rig-files.md`, () => {
      const undocumented = Object.keys(workload.paramsSchema!.shape).filter((param) => !doc.includes(`\`${param}\``) && !doc.includes(`\`${param}:`));
      expect(undocumented).toEqual([]);
    });
  }
});
