/** `rigor fleet run <rig>` and `rigor fleet merge <dir>`: one rig over many hosts, one results tree. */
import { InputError } from '../../../base/errors.ts';
import { mergeDirectory, mergeLines } from '../../fleet/merge-command.ts';
import { runFleet, summaryLines } from '../../fleet/run-fleet.ts';
import { exitCodeFor, listenForInterrupt } from '../../run/interrupt.ts';
import type { RigorCommand } from '../command.ts';

export const fleetCommand: RigorCommand = {
  command: 'fleet <action> [target]',
  describe: 'Run a rig on every host of an Ansible inventory (fleet run <rig>), or merge artifacts made elsewhere into results/ (fleet merge <dir>)',
  builder: (yargs) =>
    yargs
      .positional('action', { type: 'string', choices: ['run', 'merge'], describe: 'run: drive fleet/run.yml with ansible-playbook; merge: collect artifacts' })
      .positional('target', { type: 'string', describe: 'run: the rig (name or path); merge: a directory of artifacts (any depth)' })
      .option('results', { type: 'string', default: 'results', describe: 'the results tree artifacts and fleet records go to (results/<rig>/, results/<rig>/fleet/)' })
      .option('inventory', { alias: 'i', type: 'string', describe: 'run: the Ansible inventory (any format Ansible reads; checked with ansible-inventory --list)' })
      .option('limit', { type: 'string', describe: "run: only these hosts or groups, Ansible's pattern (web,db:!db-2); an unknown name is an error" })
      .option('forks', { type: 'number', describe: "run: hosts worked on at once (ansible-playbook --forks; Ansible's default 5)" })
      .option('serial', { type: 'string', describe: "run: hosts per batch, a batch finished before the next starts (the play's serial: 1 measures one host at a time, for hosts sharing hardware)" })
      .option('set', { type: 'string', array: true, describe: 'run: key=value for every host\'s rigor run, as rigor run --set' })
      .option('iterations', { type: 'number', describe: "run: samples per cell on every host, as rigor run --iterations" })
      .option('retry-failed', { type: 'string', describe: 'run: a fleet record; run again on its hosts that are not ok, with its rig, --set, --iterations and inventory unless given' })
      .parserConfiguration({ 'populate--': true })
      .example('$0 fleet run startup -i hosts.ini --iterations 10', 'startup on every host of hosts.ini, artifacts into results/startup/')
      .example('$0 fleet run lifecycle -i hosts.ini --limit kvm --serial 1 -- -e ansible_user=bench', 'only group kvm, one host at a time; after --, ansible-playbook options')
      .example('$0 fleet run --retry-failed results/startup/fleet/20261205T101500Z_abc1234.json', 'the hosts that failed, again')
      .example('$0 fleet merge downloaded-artifacts/', "a CI matrix's artifacts into results/, with a fleet record"),
  handler: async (args) => {
    const action = String(args.action);
    const results = String(args.results);
    const commandLine = ['rigor', ...process.argv.slice(2)];
    if (action === 'merge') {
      if (args.target === undefined) throw new InputError('fleet merge: expected a directory of artifacts, found none (rigor fleet merge <dir>)');
      const report = mergeDirectory(String(args.target), results, commandLine);
      if (report.placed.length === 0) throw new InputError(`${String(args.target)}: expected rigor artifacts (.json) at any depth, found none`);
      process.stdout.write(`${mergeLines(report, results).join('\n')}\n`);
      return 0;
    }
    for (const name of ['inventory', 'limit', 'forks', 'serial', 'set', 'iterations', 'retry-failed'] as const) {
      if (action === 'merge' && args[name] !== undefined) throw new InputError(`--${name}: only with fleet run, found it with fleet merge`);
    }
    if (args.target === undefined && args['retry-failed'] === undefined) {
      throw new InputError('fleet run: expected a rig (rigor fleet run <rig> --inventory <file>) or --retry-failed <fleet record>, found neither');
    }
    const interrupt = listenForInterrupt((signal) => process.stderr.write(`\nrigor: ${signal} received: stopping the fleet run, keeping what was fetched (again to exit at once)\n`));
    try {
      const result = await runFleet({
        rig: (args.target as string | undefined) ?? null,
        sets: (args.set as string[] | undefined) ?? null,
        iterations: (args.iterations as number | undefined) ?? null,
        inventory: (args.inventory as string | undefined) ?? null,
        limit: (args.limit as string | undefined) ?? null,
        forks: (args.forks as number | undefined) ?? null,
        serial: args.serial === undefined ? null : String(args.serial),
        extraArgs: ((args['--'] as unknown[] | undefined) ?? []).map(String),
        retryFailed: (args['retry-failed'] as string | undefined) ?? null,
        resultsDir: results,
        repo: process.cwd(),
        commandLine,
        log: (text) => process.stderr.write(text),
        signal: interrupt.signal,
      });
      process.stdout.write(`${summaryLines(result, results).join('\n')}\n`);
      const received = interrupt.received();
      if (received) return exitCodeFor(received);
      return result.record.status === 'complete' ? 0 : 1;
    } finally {
      interrupt.dispose();
    }
  },
};
