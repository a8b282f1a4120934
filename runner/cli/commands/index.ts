/**
 * The verbs, each module loaded only when it is needed: `rigor compare` should
 * not pay for importing vega, Handlebars and the sandbox backends (half a second of start-up).
 */
import type { RigorCommand } from '../command.ts';

/** In the order `rigor --help` lists them. */
const loaders: Record<string, () => Promise<RigorCommand>> = {
  run: async () => (await import('./run.ts')).runCommand,
  ab: async () => (await import('./ab.ts')).abCommand,
  list: async () => (await import('./list.ts')).listCommand,
  validate: async () => (await import('./validate.ts')).validateCommand,
  doctor: async () => (await import('./doctor.ts')).doctorCommand,
  compare: async () => (await import('./compare.ts')).compareCommand,
  gate: async () => (await import('./gate.ts')).gateCommand,
  history: async () => (await import('./history.ts')).historyCommand,
  export: async () => (await import('./export.ts')).exportCommand,
  import: async () => (await import('./import.ts')).importCommand,
  site: async () => (await import('./site.ts')).siteCommand,
};

export const VERBS = Object.keys(loaders);

/**
 * The verb the command line starts with, alone; every verb when it starts
 * with anything else (--help, --version, a typo yargs suggests a verb for).
 */
export async function loadCommands(argv: readonly string[]): Promise<RigorCommand[]> {
  const first = argv[0];
  const names = first !== undefined && Object.hasOwn(loaders, first) ? [first] : VERBS;
  const commands = await Promise.all(names.map((name) => loaders[name]!()));
  commands.forEach((command, i) => {
    // A key that is not the verb's own name would load one verb for another's command line.
    if (command.command.split(' ')[0] !== names[i]) throw new Error(`commands/index.ts: loader "${names[i]}" loads the verb "${command.command}"`);
  });
  return commands;
}
