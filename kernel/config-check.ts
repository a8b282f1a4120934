/**
 * Whether the kernel's final .config has what the fragments asked for.
 * `make olddefconfig` silently drops an option whose dependencies are not
 * met (a menu left off, a missing `depends on`), so without this check a
 * fragment could promise a driver the kernel does not have.
 */
import { InputError } from '../base/errors.ts';
import type { FragmentOption } from './fragments.ts';

const SET = /^(CONFIG_[A-Za-z0-9_]+)=(.*)$/;
const NOT_SET = /^# (CONFIG_[A-Za-z0-9_]+) is not set$/;

/** Option → value of a .config text; "n" for `# CONFIG_X is not set`. An option the file does not mention is absent. */
export function parseDotConfig(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const set = SET.exec(line);
    if (set) values.set(set[1]!, set[2]!);
    const notSet = NOT_SET.exec(line);
    if (notSet) values.set(notSet[1]!, 'n');
  }
  return values;
}

export interface ConfigMismatch {
  option: FragmentOption;
  /** What the .config has: a value, "n" when not set, undefined when the option is not there at all (its dependencies are unmet). */
  found: string | undefined;
}

/** Options the kernel did not get as asked; "n" is granted by an option that is absent. */
export function configMismatches(asked: readonly FragmentOption[], config: ReadonlyMap<string, string>): ConfigMismatch[] {
  return asked
    .map((option) => ({ option, found: config.get(option.name) }))
    .filter(({ option, found }) => (found ?? 'n') !== option.value);
}

function describe(found: string | undefined): string {
  if (found === undefined) return 'does not have it at all (its dependencies are not met)';
  if (found === 'n') return 'has it not set';
  return `has ${found}`;
}

/** Throws naming every option the kernel did not get: the fragment file and line, what was asked, what the kernel has. */
export function verifyKernelConfig(asked: readonly FragmentOption[], configText: string, configFile: string): void {
  const mismatches = configMismatches(asked, parseDotConfig(configText));
  if (mismatches.length === 0) return;
  const lines = mismatches.map(({ option, found }) => {
    const wanted = option.value === 'n' ? 'not set' : option.value;
    return `  ${option.name}: ${option.file}:${option.line} asks ${wanted}, ${configFile} ${describe(found)}`;
  });
  throw new InputError(
    `the kernel config lacks ${mismatches.length} option${mismatches.length === 1 ? '' : 's'} the fragments ask for (enable what each depends on in a fragment, e.g. its menu):\n${lines.join('\n')}`,
  );
}
