/** Boot command-line presets: `flag # reason` per line, errors naming file:line, and the project's presets as the issue defines them. */
import { describe, expect, it } from 'vitest';
import { cmdlinePresetNames, parseCmdlinePreset, presetWords, readCmdlinePreset } from '../../kernel/cmdline.ts';

describe('parseCmdlinePreset', () => {
  it('reads flags with their reasons and lines, skipping comments and blank lines', () => {
    const preset = parseCmdlinePreset('# header\n\nquiet # fewer messages\nloglevel=4   #   the same level\n', '/x/quiet.txt');
    expect(preset).toEqual({
      name: 'quiet',
      file: '/x/quiet.txt',
      flags: [
        { flag: 'quiet', reason: 'fewer messages', line: 3 },
        { flag: 'loglevel=4', reason: 'the same level', line: 4 },
      ],
    });
    expect(presetWords(preset)).toEqual(['quiet', 'loglevel=4']);
  });

  it('rejects a flag with no reason, two flags on a line, quotes, and a repeated flag, naming file:line', () => {
    expect(() => parseCmdlinePreset('# ok\nquiet\n', 'p.txt')).toThrow('p.txt:2: expected one flag and its reason, as "flag # reason", found "quiet" with no reason');
    expect(() => parseCmdlinePreset('quiet #\n', 'p.txt')).toThrow(/^p\.txt:1: expected one flag and its reason/);
    expect(() => parseCmdlinePreset('quiet loglevel=4 # both\n', 'p.txt')).toThrow(/^p\.txt:1: .*found "quiet loglevel=4 # both"/);
    expect(() => parseCmdlinePreset('init="/bin/sh x" # quoted\n', 'p.txt')).toThrow(/^p\.txt:1: /);
    expect(() => parseCmdlinePreset('quiet # a\n\nquiet # b\n', 'p.txt')).toThrow('p.txt:3: quiet is already given at line 1');
  });
});

describe('the project presets (kernel/cmdline)', () => {
  it('are none, quiet, i8042 and best, none of them adding a flag without a reason', async () => {
    const names = await cmdlinePresetNames();
    expect(names).toEqual(expect.arrayContaining(['best', 'i8042', 'none', 'quiet']));
    const presets = await Promise.all(names.map((name) => readCmdlinePreset(name)));
    expect(presets.flatMap((preset) => preset.flags).every((flag) => flag.reason.length > 0)).toBe(true);
  });

  it('build on each other as the kernel-boot rig compares them', async () => {
    const words = async (name: string): Promise<string[]> => presetWords(await readCmdlinePreset(name));
    expect(await words('none')).toEqual([]);
    expect(await words('quiet')).toEqual(['quiet', 'loglevel=4']);
    expect(await words('i8042')).toEqual(['quiet', 'loglevel=4', 'i8042.nokbd', 'i8042.noaux']);
  });

  it('names the presets there are when asked for one that is not', async () => {
    await expect(readCmdlinePreset('fastest')).rejects.toThrow(/preset "fastest": expected one of best, i8042, i8042-nokbd, none, quiet/);
  });
});
