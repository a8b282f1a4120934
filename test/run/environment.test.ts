/** The artifact's environment names each guest the cells booted, once, beside the settings that move numbers. */
import { describe, expect, it } from 'vitest';
import { environmentOf } from '../../runner/run/run-rig.ts';
import type { CellResult } from '../../runner/artifact/schema.ts';

const guest = (preset: string) => ({ machine: 'microvm', kernel: { version: '6.1.192-rigor', build: { config_sha256: 'ab'.repeat(32), patches: [] } }, cmdline_preset: preset, cmdline: `console=ttyS0 ${preset}` });
const cell = (facts?: Record<string, unknown>) => ({ facts }) as unknown as CellResult;

describe('environmentOf', () => {
  it('lists the distinct guests of the cells, and none when no cell booted one', () => {
    const environment = environmentOf([cell({ guest: guest('best') }), cell({ guest: guest('best') }), cell({ guest: guest('none') }), cell({ backend: 'bwrap' }), cell()]);
    expect(environment.guests).toEqual([guest('best'), guest('none')]);
    expect(environment).toHaveProperty('ci');
    expect(environmentOf([cell({ backend: 'process' })])).not.toHaveProperty('guests');
  });
});
