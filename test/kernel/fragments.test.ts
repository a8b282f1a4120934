/** Config fragments: every option under its one-line reason, errors naming file:line, merged without contradictions. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { mergeFragments, parseFragment, readFragments } from '../../kernel/fragments.ts';
import { InputError } from '../../base/errors.ts';

const fixture = fileURLToPath(new URL('../fixtures/kernel/guest.config', import.meta.url));

describe('parseFragment', () => {
  it('reads each option with its value, the reason directly above it and its line', () => {
    const fragment = parseFragment(readFileSync(fixture, 'utf8'), fixture);
    expect(fragment.options).toEqual([
      { name: 'CONFIG_VIRTIO_BLK', value: 'y', reason: 'the root image is the first virtio disk', file: fixture, line: 4 },
      { name: 'CONFIG_LOCALVERSION', value: '"-rigor"', reason: 'uname -r says whose kernel it is', file: fixture, line: 6 },
      { name: 'CONFIG_SERIAL_8250_NR_UARTS', value: '1', reason: 'one console UART', file: fixture, line: 8 },
      { name: 'CONFIG_SWAP', value: 'n', reason: 'no swap device', file: fixture, line: 10 },
    ]);
  });

  it('rejects an option with no reason directly above it, naming file:line', () => {
    expect(() => parseFragment('CONFIG_A=y\n', 'f.config')).toThrow(/^f\.config:1: CONFIG_A: expected a "# reason" comment on the line directly above it/);
    // a blank line separates a comment from the option: it is not the option's reason
    expect(() => parseFragment('# why\n\nCONFIG_A=y\n', 'f.config')).toThrow(/^f\.config:3: CONFIG_A: expected a "# reason"/);
    // one reason per option: the option above does not lend its reason
    expect(() => parseFragment('# why\nCONFIG_A=y\nCONFIG_B=y\n', 'f.config')).toThrow(/^f\.config:3: CONFIG_B/);
    expect(() => parseFragment('# why\n# CONFIG_A is not set\n# CONFIG_B is not set\n', 'f.config')).toThrow(/^f\.config:3: CONFIG_B/);
  });

  it('rejects modules, malformed values, repeated options and lines that are none of the kinds', () => {
    expect(() => parseFragment('# why\nCONFIG_A=m\n', 'f.config')).toThrow(/^f\.config:2: CONFIG_A=m: the guest kernel has no module support/);
    expect(() => parseFragment('# why\nCONFIG_A=yes please\n', 'f.config')).toThrow(/^f\.config:2: CONFIG_A: expected y, n, a number or a "quoted string", found "yes please"/);
    expect(() => parseFragment('# why\nCONFIG_A=y\n# again\nCONFIG_A=y\n', 'f.config')).toThrow(/^f\.config:4: CONFIG_A is already set at line 2/);
    expect(() => parseFragment('# why\nVIRTIO_BLK=y\n', 'f.config')).toThrow(InputError);
    expect(() => parseFragment('# why\nVIRTIO_BLK=y\n', 'f.config')).toThrow(/^f\.config:2: expected CONFIG_NAME=value/);
  });
});

describe('mergeFragments', () => {
  const a = parseFragment('# a wants it\nCONFIG_X=y\n# a\nCONFIG_Y=1\n', 'a.config');
  it('keeps one entry per option, the first fragment naming it', () => {
    const b = parseFragment('# b wants it too\nCONFIG_X=y\n', 'b.config');
    expect(mergeFragments([a, b]).map((option) => [option.name, option.file])).toEqual([
      ['CONFIG_X', 'a.config'],
      ['CONFIG_Y', 'a.config'],
    ]);
  });

  it('rejects two fragments asking different values of one option, naming both lines', () => {
    const b = parseFragment('# b\n# CONFIG_X is not set\n', 'b.config');
    expect(() => mergeFragments([a, b])).toThrow('b.config:2: CONFIG_X=n contradicts a.config:2, which asks CONFIG_X=y');
  });
});

describe('the project fragments (kernel/config)', () => {
  it('parse, do not contradict each other, and ask for what the guest boots with', async () => {
    const options = mergeFragments(await readFragments(fileURLToPath(new URL('../../kernel/config/', import.meta.url))));
    const asked = new Map(options.map((option) => [option.name, option.value]));
    for (const name of ['CONFIG_64BIT', 'CONFIG_PVH', 'CONFIG_VIRTIO_MMIO', 'CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES', 'CONFIG_VIRTIO_PCI', 'CONFIG_VIRTIO_BLK', 'CONFIG_VIRTIO_CONSOLE', 'CONFIG_VIRTIO_NET', 'CONFIG_SQUASHFS', 'CONFIG_DEVTMPFS', 'CONFIG_TMPFS', 'CONFIG_BINFMT_SCRIPT', 'CONFIG_UNIX', 'CONFIG_INET']) {
      expect(asked.get(name), name).toBe('y');
    }
    expect(options.every((option) => option.reason.length > 0)).toBe(true);
    expect(options.some((option) => option.value === 'm')).toBe(false);
  });
});
