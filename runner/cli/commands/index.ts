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

/** A verb named by its usage line's first word. */
const verb = (command: string, describe: string, load: () => Promise<RigorCommand>): [string, Verb] => [command.split(' ')[0]!, { command, describe, load }];

/** In the order `rigor --help` lists them; a test checks each line against its module. */
const verbs: Record<string, Verb> = Object.fromEntries([
  verb('run <rig>', 'Run a rig and write its artifact to results/<rig>/', async () => (await import('./run.ts')).runCommand),
  verb('ab <rig>', 'Measure two commits side by side in one interleaved run and gate the head against the base (paired)', async () => (await import('./ab.ts')).abCommand),
  verb('list', 'List the rigs in rigs/ and the workloads they can use', async () => (await import('./list.ts')).listCommand),
  verb('validate <files..>', "Check rig files (.rig.yaml) and artifacts (.json) against their schemas, and an artifact's stored summaries, ratios, gate results and content digest against its samples", async () => (await import('./validate.ts')).validateCommand),
  verb('doctor', 'Check this host for what bends benchmark numbers (load, governor, memory, KVM, tools) and for what killed runs left behind', async () => (await import('./doctor.ts')).doctorCommand),
  verb('compare <a> <b>', 'Compare two artifacts cell by cell (B against A); an artifact is a file or a rig name (its newest run)', async () => (await import('./compare.ts')).compareCommand),
  verb('gate <artifact>', "Check an artifact against its rig's gates (relative gates need --baseline); exit 1 on a regression", async () => (await import('./gate.ts')).gateCommand),
  verb('history <rig>', "A rig's medians across commits (git order), per cell, metric, host and host fingerprint, with change points (E-divisive means + t-test, as Apache Otava)", async () => (await import('./history.ts')).historyCommand),
  verb('export <artifact>', "Write an artifact as Bencher Metric Format (bmf) or hyperfine's --export-json shape (hyperfine)", async () => (await import('./export.ts')).exportCommand),
  verb('import <format> <file>', "Turn another tool's results into a rigor artifact (this machine's host and git block, run.imported_from set)", async () => (await import('./import.ts')).importCommand),
  verb('fleet <action> [target]', 'Run a rig on every host of an Ansible inventory (fleet run <rig>), or merge artifacts made elsewhere into results/ (fleet merge <dir>)', async () => (await import('./fleet.ts')).fleetCommand),
  verb('serve', "Serve the sandbox core through E2B's API (control plane and envd) on loopback, for the unmodified e2b SDK", async () => (await import('./serve.ts')).serveCommand),
  verb('site', 'Build the static results site (every number linked to its artifact and JSON pointer) into site/dist/', async () => (await import('./site.ts')).siteCommand),
]);

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
      // A usage line listed above that is not its module's would load one verb for another's command line.
      if (command.command.split(' ')[0] !== name) throw new Error(`commands/index.ts: loader "${name}" loads the verb "${command.command}"`);
      return command;
    }),
  );
}
