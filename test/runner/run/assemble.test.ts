/** The assembler: the artifact's environment names each guest once; gates and ratios come from the measured cells. */
import { describe, expect, it } from 'vitest';
import { environmentOf } from '../../../runner/run/assemble.ts';
import type { CellResult } from '../../../runner/artifact/schema.ts';

const guest = (preset: string) => ({ machine: 'microvm', kernel: { version: '6.1.192-rigor', build: { config_sha256: 'ab'.repeat(32), patches: [] } }, cmdline_preset: preset, cmdline: `console=ttyS0 ${preset}` });
const cell = (facts?: Record<string, unknown>) => ({ facts }) as unknown as CellResult;

describe('environmentOf', () => {
  it('lists the distinct guests of the cells, and none when no cell booted one', () => {
    const environment = environmentOf([cell({ guest: guest('best') }), cell({ guest: guest('best') }), cell({ guest: guest('none') }), cell({ backend: 'bwrap' }), cell()], { CI: 'true', TZ: 'UTC' });
    expect(environment.guests).toEqual([guest('best'), guest('none')]);
    expect(environment).toMatchObject({ ci: true, tz: 'UTC', lang: null, node_options: null });
    expect(environmentOf([cell({ backend: 'process' })], {})).not.toHaveProperty('guests');
  });
});
