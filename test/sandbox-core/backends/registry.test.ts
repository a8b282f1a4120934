import { describe, expect, it } from 'vitest';
import { bwrapBackend } from '../../../sandbox-core/backends/bwrap.ts';
import { processBackend } from '../../../sandbox-core/backends/process.ts';
import { qemuBackend } from '../../../sandbox-core/backends/qemu.ts';
import { backendFor, backendNames, getBackend, listBackends, variantOptionOwners } from '../../../sandbox-core/backends/registry.ts';

describe('backend registry', () => {
  it('lists the floor first and finds each backend by its own name', () => {
    expect(backendNames.slice(0, 2)).toEqual(['process', 'bwrap']);
    expect(getBackend('process')).toBe(processBackend);
    expect(getBackend('bwrap')).toBe(bwrapBackend);
    for (const backend of listBackends()) expect(getBackend(backend.name)).toBe(backend);
  });

  it('names the known backends when asked for an unknown one', () => {
    expect(() => getBackend('lxc')).toThrow(`unknown sandbox backend "lxc"; expected one of ${backendNames.join(', ')}`);
  });

  it('configures a backend through its own variant(): one backend per distinct options, none for an option it does not take', () => {
    expect(backendFor('qemu')).toBe(qemuBackend);
    const pc = backendFor('qemu', { machine: 'pc' });
    expect(pc).not.toBe(qemuBackend);
    expect(backendFor('qemu', { machine: 'pc', kernel: undefined })).toBe(pc);
    expect(backendFor('qemu', { machine: 'pc', cmdline: 'none' })).not.toBe(pc);
    expect(() => backendFor('bwrap', { kernel: 'rigor' })).toThrow('backend bwrap takes no option kernel');
    expect(() => backendFor('qemu', { memory: 1 })).toThrow('backend qemu takes no option memory; it takes kernel, machine, cmdline');
    expect(variantOptionOwners().get('machine')).toEqual(['qemu']);
  });
});
