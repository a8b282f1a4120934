/**
 * The verbs, each module loaded only when its verb is the one run: `rigor
 * compare` should not pay for importing vega, Handlebars and the sandbox
 * backends, and `rigor --help` (which only lists verbs) for any of them.
 */
import type { RigorCommand } from '../command.ts';

interface Verb {
  /** The verb's usage line and description, as its module has them: `rigor --help` lists these without loading it. */
  command: string;
  describe: string;
  load: () => Promise<RigorCommand>;
}

/** In the order `rigor --help` lists them; a test checks each line against its module. */
const verbs: Record<string, Verb> = {
  run: { command: 'run <rig>', describe: 'Run a rig and write its artifact to results/<rig>/', load: async () => (await import('./run.ts')).runCommand },
  ab: {
    command: 'ab <rig>',
    describe: 'Measure two commits side by side in one interleaved run and gate the head against the base (paired)',
    load: async () => (await import('./ab.ts')).abCommand,
  },
  list: { command: 'list', describe: 'List the rigs in rigs/ and the workloads they can use', load: async () => (await import('./list.ts')).listCommand },
  validate: {
    command: 'validate <files..>',
    describe: 'Check rig files (.rig.yaml) and artifacts (.json) against their schemas',
    load: async () => (await import('./validate.ts')).validateCommand,
  },
  doctor: {
    command: 'doctor',
    describe: 'Check this host for what bends benchmark numbers (load, governor, memory, KVM, tools)',
    load: async () => (await import('./doctor.ts')).doctorCommand,
  },
  compare: {
    command: 'compare <a> <b>',
    describe: 'Compare two artifacts cell by cell (B against A); an artifact is a file or a rig name (its newest run)',
    load: async () => (await import('./compare.ts')).compareCommand,
  },
  gate: {
    command: 'gate <artifact>',
    describe: "Check an artifact against its rig's gates (relative gates need --baseline); exit 1 on a regression",
    load: async () => (await import('./gate.ts')).gateCommand,
  },
  history: {
    command: 'history <rig>',
    describe: "A rig's medians across commits (git order), per cell, metric, host and host fingerprint, with change points (E-divisive means + t-test, as Apache Otava)",
    load: async () => (await import('./history.ts')).historyCommand,
  },
  export: {
    command: 'export <artifact>',
    describe: "Write an artifact as Bencher Metric Format (bmf) or hyperfine's --export-json shape (hyperfine)",
    load: async () => (await import('./export.ts')).exportCommand,
  },
  import: {
    command: 'import <format> <file>',
    describe: "Turn another tool's results into a rigor artifact (this machine's host and git block, run.imported_from set)",
    load: async () => (await import('./import.ts')).importCommand,
  },
  site: {
    command: 'site',
    describe: 'Build the static results site (every number linked to its artifact and JSON pointer) into site/dist/',
    load: async () => (await import('./site.ts')).siteCommand,
  },
};

export const VERBS = Object.keys(verbs);

/** Every verb's module, loaded: for the test that holds the listing above to what the modules say. */
export function loadEveryVerb(): Promise<RigorCommand[]> {
  return Promise.all(VERBS.map((name) => verbs[name]!.load()));
}

/** A verb as `rigor --help` lists it; never run (the verb a command line names is loaded whole). */
function listed(name: string): RigorCommand {
  const { command, describe } = verbs[name]!;
  return {
    command,
    describe,
    builder: (yargs) => yargs,
    handler: async () => {
      throw new Error(`commands/index.ts: the verb ${name} ran without its module`);
    },
  };
}

/**
 * Every verb, in order: the one the command line names (its first word that
 * is not an option) loaded whole, the others only as listed, which is all
 * `--help`, `--version` and a typo yargs suggests a verb for need.
 */
export async function loadCommands(argv: readonly string[]): Promise<RigorCommand[]> {
  const first = argv.find((arg) => !arg.startsWith('-'));
  const named = first !== undefined && Object.hasOwn(verbs, first) ? first : null;
  return Promise.all(
    VERBS.map(async (name) => {
      if (name !== named) return listed(name);
      const command = await verbs[name]!.load();
      // A key that is not the verb's own name would load one verb for another's command line.
      if (command.command.split(' ')[0] !== name) throw new Error(`commands/index.ts: loader "${name}" loads the verb "${command.command}"`);
      return command;
    }),
  );
}
