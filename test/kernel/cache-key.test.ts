/** The kernel cache key: each input changes it; nothing else does. */
import { describe, expect, it } from 'vitest';
import { kernelCacheKey, type KernelKeyInputs } from '../../kernel/cache-key.ts';

const base: KernelKeyInputs = {
  sourceVersion: '6.1.192-2',
  fragments: [
    { name: 'base.config', text: '# why\nCONFIG_64BIT=y\n' },
    { name: 'fs.config', text: '# why\nCONFIG_TMPFS=y\n' },
  ],
  series: '# empty\n',
  patches: [],
  builderVersion: 1,
};

describe('kernelCacheKey', () => {
  it('is a sha256 that an equal copy of the inputs reproduces', () => {
    const key = kernelCacheKey(base);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(kernelCacheKey(structuredClone(base))).toBe(key);
  });

  it('changes with the source version, any fragment text or name, their order, the series, a patch and the builder version', () => {
    const variants: KernelKeyInputs[] = [
      { ...base, sourceVersion: '6.1.192-3' },
      { ...base, fragments: [base.fragments[0]!, { name: 'fs.config', text: '# why\nCONFIG_TMPFS=n\n' }] },
      { ...base, fragments: [base.fragments[0]!, { name: 'fs.config', text: '# why, reworded\nCONFIG_TMPFS=y\n' }] },
      { ...base, fragments: [base.fragments[0]!, { name: 'files.config', text: base.fragments[1]!.text }] },
      { ...base, fragments: [base.fragments[1]!, base.fragments[0]!] },
      { ...base, fragments: [base.fragments[0]!] },
      { ...base, series: '# empty, said differently\n' },
      { ...base, series: 'a.patch\n', patches: [{ name: 'a.patch', text: 'diff 1' }] },
      { ...base, series: 'a.patch\n', patches: [{ name: 'a.patch', text: 'diff 2' }] },
      { ...base, builderVersion: 2 },
    ];
    const keys = new Set([kernelCacheKey(base), ...variants.map(kernelCacheKey)]);
    expect(keys.size).toBe(variants.length + 1);
  });
});
