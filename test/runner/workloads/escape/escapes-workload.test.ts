/** sandbox.escapes: process is the control and only it (the battery itself: test/sandbox-core/isolation/escape.test.ts and escapes/battery.test.ts). */
import { describe, expect, it } from 'vitest';
import { escapesWorkload } from '../../../../runner/workloads/escape/escapes-workload.ts';

describe('sandbox.escapes params', () => {
  it('takes control: true with process and false with an isolating backend', () => {
    expect(escapesWorkload.validateParams!({ backend: 'process', control: true })).toEqual([]);
    expect(escapesWorkload.validateParams!({ backend: 'docker', runtime: 'runsc', control: false })).toEqual([]);
  });

  it('refuses a control that isolates, and process not labelled as the control, saying which', () => {
    expect(escapesWorkload.validateParams!({ backend: 'bwrap', control: true })).toEqual([
      'params.control: expected false with backend bwrap (only process, which isolates nothing, is the control), found true',
    ]);
    expect(escapesWorkload.validateParams!({ backend: 'process', control: false })).toEqual([
      "params.control: expected true with backend process (it isolates nothing: it is the battery's control), found false",
    ]);
  });
});
