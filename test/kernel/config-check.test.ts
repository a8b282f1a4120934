/** The final .config against the fragments: an option the kernel did not get is an error naming it, its fragment line, what was asked and what the kernel has. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { configMismatches, parseDotConfig, verifyKernelConfig } from '../../kernel/config-check.ts';
import { parseFragment } from '../../kernel/fragments.ts';

const path = (name: string): string => fileURLToPath(new URL(`../fixtures/kernel/${name}`, import.meta.url));
const fragment = parseFragment(readFileSync(path('guest.config'), 'utf8'), path('guest.config'));

describe('parseDotConfig', () => {
  it('reads set and not-set options and skips comments', () => {
    const config = parseDotConfig('#\n# header\nCONFIG_A=y\nCONFIG_S="x y"\n# CONFIG_B is not set\n');
    expect([...config]).toEqual([
      ['CONFIG_A', 'y'],
      ['CONFIG_S', '"x y"'],
      ['CONFIG_B', 'n'],
    ]);
  });
});

describe('verifyKernelConfig', () => {
  it('passes a .config that has every option, an absent option counting as not set', () => {
    expect(() => verifyKernelConfig(fragment.options, readFileSync(path('final-complete.config'), 'utf8'), 'final-complete.config')).not.toThrow();
    expect(configMismatches(fragment.options, parseDotConfig('CONFIG_VIRTIO_BLK=y\nCONFIG_LOCALVERSION="-rigor"\nCONFIG_SERIAL_8250_NR_UARTS=1\n'))).toEqual([]);
  });

  it('names the option the kernel did not get, the fragment line that asked, and what the kernel has', () => {
    const text = readFileSync(path('final-missing-virtio-blk.config'), 'utf8');
    expect(() => verifyKernelConfig(fragment.options, text, 'the final .config')).toThrow(
      `CONFIG_VIRTIO_BLK: ${path('guest.config')}:4 asks y, the final .config does not have it at all (its dependencies are not met)`,
    );
    expect(() => verifyKernelConfig(fragment.options, text, 'x')).toThrow(/lacks 1 option the fragments ask for/);
  });

  it('reports a value the kernel changed and an option it set that was asked off, each once', () => {
    const text = 'CONFIG_VIRTIO_BLK=y\nCONFIG_LOCALVERSION=""\nCONFIG_SERIAL_8250_NR_UARTS=4\nCONFIG_SWAP=y\n';
    const mismatches = configMismatches(fragment.options, parseDotConfig(text));
    expect(mismatches.map(({ option, found }) => [option.name, found])).toEqual([
      ['CONFIG_LOCALVERSION', '""'],
      ['CONFIG_SERIAL_8250_NR_UARTS', '4'],
      ['CONFIG_SWAP', 'y'],
    ]);
    expect(() => verifyKernelConfig(fragment.options, text, '.config')).toThrow(/CONFIG_SWAP: .*guest\.config:10 asks not set, \.config has y/);
    expect(() => verifyKernelConfig(fragment.options, 'CONFIG_VIRTIO_BLK=y\nCONFIG_LOCALVERSION="-rigor"\nCONFIG_SERIAL_8250_NR_UARTS=1\n# CONFIG_VIRTIO_BLK is not set\n', '.config')).toThrow(
      /CONFIG_VIRTIO_BLK: .* asks y, \.config has it not set/,
    );
  });
});
