import { describe, expect, it } from 'vitest';
import { bwrapBackend } from '../../../sandbox-core/backends/bwrap.ts';
import { processBackend } from '../../../sandbox-core/backends/process.ts';
import { backendNames, getBackend, listBackends } from '../../../sandbox-core/backends/registry.ts';

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
});
