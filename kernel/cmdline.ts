/**
 * Boot command-line presets (kernel/cmdline/<name>.txt): one flag per line,
 * each followed by `# reason`; lines that are only a comment, and blank
 * lines, are allowed. The presets are what the kernel-boot rig compares.
 */
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { InputError } from '../base/errors.ts';
import { CMDLINE_DIR } from './paths.ts';

export interface CmdlineFlag {
  /** "quiet", "loglevel=4" */
  flag: string;
  reason: string;
  line: number;
}

export interface CmdlinePreset {
  /** The file's name without .txt. */
  name: string;
  file: string;
  flags: CmdlineFlag[];
}

/** `flag # reason`; a flag is one word (no spaces or quotes). */
const FLAG_LINE = /^([^\s#"']+)\s+#\s*(\S.*)$/;

/** The preset in `text`; throws naming file:line for a line that is not `flag # reason`, a comment or blank. */
export function parseCmdlinePreset(text: string, file: string): CmdlinePreset {
  const flags: CmdlineFlag[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const match = FLAG_LINE.exec(trimmed);
    if (!match) {
      const found = /^\S+$/.test(trimmed) ? `${JSON.stringify(trimmed)} with no reason` : JSON.stringify(trimmed);
      throw new InputError(`${file}:${line}: expected one flag and its reason, as "flag # reason", found ${found}`);
    }
    const earlier = flags.find((flag) => flag.flag === match[1]);
    if (earlier) throw new InputError(`${file}:${line}: ${match[1]} is already given at line ${earlier.line}`);
    flags.push({ flag: match[1]!, reason: match[2]!.trim(), line });
  });
  return { name: basename(file).replace(/\.txt$/, ''), file, flags };
}

/** The preset `<dir>/<name>.txt`; an unknown name is an error listing the presets there are. */
export async function readCmdlinePreset(name: string, dir: string = CMDLINE_DIR): Promise<CmdlinePreset> {
  const file = join(dir, `${name}.txt`);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new InputError(`kernel command-line preset ${JSON.stringify(name)}: expected one of ${(await cmdlinePresetNames(dir)).join(', ')} (files in ${dir}), found no ${file}`);
  }
  return parseCmdlinePreset(text, file);
}

/** Names of the presets in `dir`, sorted. */
export async function cmdlinePresetNames(dir: string = CMDLINE_DIR): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.endsWith('.txt')).map((name) => name.slice(0, -'.txt'.length)).sort();
}

/** The words a preset adds to the kernel command line. */
export function presetWords(preset: CmdlinePreset): string[] {
  return preset.flags.map((flag) => flag.flag);
}
