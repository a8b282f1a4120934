/**
 * Kernel config fragments (kernel/config/*.config): `CONFIG_X=value` or
 * `# CONFIG_X is not set`, each directly under a one-line `# reason`. Parsed
 * so the build can check afterwards that the kernel got every option asked
 * for, and say which fragment line asked.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../base/errors.ts';

export interface FragmentOption {
  /** "CONFIG_VIRTIO_BLK" */
  name: string;
  /** As written after `=` ("y", "1", "\"-rigor\""); "n" for `# CONFIG_X is not set`. */
  value: string;
  /** The comment line directly above, without its `#`. */
  reason: string;
  file: string;
  line: number;
}

export interface Fragment {
  file: string;
  text: string;
  options: FragmentOption[];
}

const SET = /^(CONFIG_[A-Za-z0-9_]+)=(.*)$/;
const NOT_SET = /^# (CONFIG_[A-Za-z0-9_]+) is not set$/;
const COMMENT = /^#(.*)$/;
/** What Kconfig writes: a tristate, a number, a hex number or a quoted string. */
const VALUE = /^(y|n|-?\d+|0x[0-9a-fA-F]+|"(?:[^"\\]|\\.)*")$/;

/** The options of one fragment; throws naming file:line for a line that is not an option, a reason or blank. */
export function parseFragment(text: string, file: string): Fragment {
  const options: FragmentOption[] = [];
  const seen = new Map<string, number>();
  let reason: string | undefined;
  text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    const where = `${file}:${line}`;
    const trimmed = raw.trim();
    const set = SET.exec(trimmed);
    const notSet = NOT_SET.exec(trimmed);
    if (set || notSet) {
      const name = (set?.[1] ?? notSet?.[1])!;
      const value = set ? set[2]!.trim() : 'n';
      if (value === 'm') throw new InputError(`${where}: ${name}=m: the guest kernel has no module support; build it in (=y)`);
      if (!VALUE.test(value)) throw new InputError(`${where}: ${name}: expected y, n, a number or a "quoted string", found ${JSON.stringify(value)}`);
      if (reason === undefined) throw new InputError(`${where}: ${name}: expected a "# reason" comment on the line directly above it, found none`);
      const earlier = seen.get(name);
      if (earlier !== undefined) throw new InputError(`${where}: ${name} is already set at line ${earlier}`);
      seen.set(name, line);
      options.push({ name, value, reason, file, line });
      reason = undefined;
      return;
    }
    if (trimmed === '') {
      reason = undefined;
      return;
    }
    const comment = COMMENT.exec(trimmed);
    if (!comment) throw new InputError(`${where}: expected CONFIG_NAME=value, "# CONFIG_NAME is not set", a "# comment" or a blank line, found ${JSON.stringify(trimmed)}`);
    reason = comment[1]!.trim() || undefined;
  });
  return { file, text, options };
}

/** Every *.config in `dir`, parsed, in file-name order (the order merge_config.sh applies them). */
export async function readFragments(dir: string): Promise<Fragment[]> {
  const names = (await readdir(dir)).filter((name) => name.endsWith('.config')).sort();
  if (names.length === 0) throw new InputError(`${dir}: expected at least one *.config fragment, found none`);
  return Promise.all(names.map(async (name) => parseFragment(await readFile(join(dir, name), 'utf8'), join(dir, name))));
}

/** Every option the fragments ask for; two fragments asking different values of one option is an error naming both lines. */
export function mergeFragments(fragments: readonly Fragment[]): FragmentOption[] {
  const merged = new Map<string, FragmentOption>();
  for (const option of fragments.flatMap((fragment) => fragment.options)) {
    const earlier = merged.get(option.name);
    if (earlier && earlier.value !== option.value) {
      throw new InputError(`${option.file}:${option.line}: ${option.name}=${option.value} contradicts ${earlier.file}:${earlier.line}, which asks ${option.name}=${earlier.value}`);
    }
    merged.set(option.name, earlier ?? option);
  }
  return [...merged.values()];
}
